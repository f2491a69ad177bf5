// A static PWA: every route is a prerendered shell and all state lives in the browser node.
export const prerender = true;
export const ssr = false;
export const trailingSlash = 'never';
