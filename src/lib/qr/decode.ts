/**
 * Reads the text of a QR code from pixels: the browser's BarcodeDetector where it has one that knows QR
 * codes (Android, macOS, ChromeOS), jsQR otherwise (Chromium on Linux and Windows, Firefox, Safari).
 * Both decoders are loaded on first use, so a page that never scans pays nothing for them.
 */

/** The part of the (experimental, not yet in lib.dom) Barcode Detection API this module uses. */
interface BarcodeDetectorLike {
	detect(source: CanvasImageSource): Promise<{ rawValue: string }[]>;
}
interface BarcodeDetectorClass {
	new (options: { formats: string[] }): BarcodeDetectorLike;
	getSupportedFormats(): Promise<string[]>;
}

export type QrDecoder = (canvas: HTMLCanvasElement) => Promise<string | undefined>;

let decoder: Promise<QrDecoder> | undefined;

/** The decoder for this browser, made once per page. */
export function qrDecoder(): Promise<QrDecoder> {
	decoder ??= makeDecoder().catch((e: unknown) => {
		decoder = undefined;
		throw e;
	});
	return decoder;
}

async function makeDecoder(): Promise<QrDecoder> {
	const native = (globalThis as { BarcodeDetector?: BarcodeDetectorClass }).BarcodeDetector;
	if (native) {
		try {
			if ((await native.getSupportedFormats()).includes('qr_code')) {
				const detector = new native({ formats: ['qr_code'] });
				return async (canvas) => (await detector.detect(canvas))[0]?.rawValue || undefined;
			}
		} catch {
			// A detector that cannot say what it supports: fall back to the library.
		}
	}
	const { default: jsQR } = await import('jsqr');
	return async (canvas) => {
		const context = canvas.getContext('2d', { willReadFrequently: true });
		if (!context || canvas.width === 0 || canvas.height === 0) return undefined;
		const { data, width, height } = context.getImageData(0, 0, canvas.width, canvas.height);
		// Screens show codes light on dark as often as paper shows them dark on light.
		return jsQR(data, width, height, { inversionAttempts: 'attemptBoth' })?.data || undefined;
	};
}

/**
 * Draws `source` (a video frame, a decoded image) on `canvas`, scaled down so that its longer side is at
 * most `maxSide` pixels: enough for a code that fills a fair part of the picture, and cheap to decode.
 */
export function drawScaled(
	canvas: HTMLCanvasElement,
	source: CanvasImageSource,
	width: number,
	height: number,
	maxSide: number
): boolean {
	if (width === 0 || height === 0) return false;
	const scale = Math.min(1, maxSide / Math.max(width, height));
	canvas.width = Math.round(width * scale);
	canvas.height = Math.round(height * scale);
	const context = canvas.getContext('2d', { willReadFrequently: true });
	if (!context) return false;
	context.drawImage(source, 0, 0, canvas.width, canvas.height);
	return true;
}

/** The text of the QR code in an image file (a photo or a screenshot), or undefined when there is none. */
export async function decodeQrImage(file: Blob): Promise<string | undefined> {
	const bitmap = await createImageBitmap(file);
	try {
		const decode = await qrDecoder();
		const canvas = document.createElement('canvas');
		// A phone photo is 12 MP: try it at a modest size first, then larger for a small code in a big picture.
		for (const side of [1024, 2048]) {
			if (!drawScaled(canvas, bitmap, bitmap.width, bitmap.height, side)) return undefined;
			const text = await decode(canvas);
			if (text) return text;
			if (Math.max(bitmap.width, bitmap.height) <= side) break;
		}
		return undefined;
	} finally {
		bitmap.close();
	}
}
