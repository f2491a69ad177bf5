/// <reference types="@sveltejs/kit" />
/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
/**
 * Offline-first service worker: the app shell, its built assets and static files (icons, SNARK
 * artifacts) are cached at install, so a patient can read their cached history without a network.
 * Data itself lives in IndexedDB, never in this cache. The FHIR validator's chunks, which only a clinic
 * importing a file loads, are left out (the build lists them, vite.config.ts): fetched on demand.
 */
import { base, build, files, prerendered, version } from '$service-worker';

const sw = self as unknown as ServiceWorkerGlobalScope;
const CACHE = `spchain-${version}`;
const PRECACHE = [...build, ...files, ...prerendered];

/** The precache without the chunks the build listed as loaded on demand only. */
async function precacheList(): Promise<string[]> {
	const response = await fetch(`${base}/_app/lazy-chunks.json`);
	if (!response.ok) throw new Error(`the build's list of on-demand chunks is missing (${response.status})`);
	const lazy = new Set(((await response.json()) as string[]).map((file) => `${base}/${file}`));
	return PRECACHE.filter((file) => !lazy.has(file));
}

sw.addEventListener('install', (event) => {
	event.waitUntil(
		(async () => {
			const cache = await caches.open(CACHE);
			await cache.addAll(await precacheList());
			await sw.skipWaiting();
		})()
	);
});

sw.addEventListener('activate', (event) => {
	event.waitUntil(
		caches
			.keys()
			.then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
			.then(() => sw.clients.claim())
	);
});

sw.addEventListener('fetch', (event) => {
	const request = event.request;
	if (request.method !== 'GET') return;
	const url = new URL(request.url);
	if (url.origin !== sw.location.origin) return;

	event.respondWith(
		(async () => {
			const cache = await caches.open(CACHE);
			// Built files are immutable per version: cache first.
			const cached = await cache.match(url.pathname);
			if (cached && PRECACHE.includes(url.pathname)) return cached;
			try {
				const response = await fetch(request);
				if (response.ok && response.type === 'basic') cache.put(request, response.clone());
				return response;
			} catch (error) {
				// Offline: serve what we have, or the SPA shell for navigations.
				const fallback = cached ?? (request.mode === 'navigate' ? await cache.match('/200.html') : undefined);
				if (fallback) return fallback;
				throw error;
			}
		})()
	);
});
