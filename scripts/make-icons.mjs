// Draws the app icons (teal tile, white medical cross, chain-link dot) as PNGs; run once, output committed.
import { deflateSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';

const crcTable = Array.from({ length: 256 }, (_, n) => {
	let c = n;
	for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
	return c >>> 0;
});
const crc32 = (buf) => {
	let c = 0xffffffff;
	for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
	return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
	const len = Buffer.alloc(4);
	len.writeUInt32BE(data.length);
	const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(crc32(body));
	return Buffer.concat([len, body, crc]);
};

function icon(size, safeZone) {
	const raw = Buffer.alloc((size * 4 + 1) * size);
	const inset = safeZone ? size * 0.1 : 0;
	for (let y = 0; y < size; y++) {
		raw[y * (size * 4 + 1)] = 0;
		for (let x = 0; x < size; x++) {
			const u = (x - inset) / (size - 2 * inset);
			const v = (y - inset) / (size - 2 * inset);
			const bar = 0.16;
			const cross =
				(Math.abs(u - 0.5) < bar && v > 0.2 && v < 0.8) || (Math.abs(v - 0.5) < bar && u > 0.2 && u < 0.8);
			const dot = (u - 0.78) ** 2 + (v - 0.78) ** 2 < 0.01;
			const [r, g, b] = cross ? [255, 255, 255] : dot ? [255, 200, 87] : [11, 93, 87];
			const o = y * (size * 4 + 1) + 1 + x * 4;
			raw[o] = r;
			raw[o + 1] = g;
			raw[o + 2] = b;
			raw[o + 3] = 255;
		}
	}
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(size, 0);
	ihdr.writeUInt32BE(size, 4);
	ihdr[8] = 8;
	ihdr[9] = 6;
	return Buffer.concat([
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		chunk('IHDR', ihdr),
		chunk('IDAT', deflateSync(raw)),
		chunk('IEND', Buffer.alloc(0))
	]);
}

writeFileSync('static/icons/icon-192.png', icon(192, false));
writeFileSync('static/icons/icon-512.png', icon(512, false));
writeFileSync('static/icons/icon-maskable-512.png', icon(512, true));
