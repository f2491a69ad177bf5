// Where the browser tests find Chromium: Debian's package (Playwright's own download cannot run here).
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
	'--disable-features=WebRtcHideLocalIpsWithMdns'
];

export function requireChromium() {
	if (existsSync(CHROMIUM)) return CHROMIUM;
	console.error(
		`The browser tests need Chromium at ${CHROMIUM}.\n` +
			'Install it with:  sudo apt-get update && sudo apt-get install -y chromium\n' +
			'(or point CHROMIUM_PATH at another Chromium binary).'
	);
	process.exit(1);
}
