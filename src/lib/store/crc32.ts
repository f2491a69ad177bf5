/**
 * CRC-32 (IEEE 802.3, the zlib/PNG polynomial) for the Node store's log frames: it tells a torn or
 * damaged frame from a whole one. Not a defence against tampering (whoever can write the file can
 * fix the checksum); the chain data inside is verified by its own hashes and signatures.
 */
const TABLE = (() => {
	const table = new Uint32Array(256);
	for (let n = 0; n < 256; n++) {
		let c = n;
		for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		table[n] = c >>> 0;
	}
	return table;
})();

export function crc32(bytes: Uint8Array): number {
	let crc = 0xffffffff;
	for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
	return (crc ^ 0xffffffff) >>> 0;
}
