// libp2p 3 and some dependencies assume Node 22; the one polyfill they need on Node 20.
import '../src/lib/node/polyfills.ts';
