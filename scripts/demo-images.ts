/**
 * Generates the demo brand's local images (committed under static/demo-assets/, a few KB
 * each): one flat product picture per catalogue category and a handful of staff icons. Plain
 * PNGs drawn here (node:zlib only), so the demo needs no image host and no external URL — the
 * Content-Security-Policy and offline tablets are happy, and LINE accepts them (HTTPS PNG) once
 * PUBLIC_BASE_URL is an https origin.
 *
 *   node --import tsx scripts/demo-images.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';

type Rgb = [number, number, number];
type Shape = (x: number, y: number) => boolean;

const SIZE = 240;

function crc32(buf: Buffer): number {
	let c = ~0;
	for (const byte of buf) {
		c ^= byte;
		for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
	}
	return ~c >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
	const len = Buffer.alloc(4);
	len.writeUInt32BE(data.length);
	const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(crc32(td));
	return Buffer.concat([len, td, crc]);
}

/** An 8-bit indexed PNG of `size`² pixels: background, then each shape in its colour. */
function png(size: number, background: Rgb, layers: Array<[Rgb, Shape]>): Buffer {
	const palette = [background, ...layers.map(([c]) => c)];
	const raw = Buffer.alloc((size + 1) * size);
	for (let y = 0; y < size; y++) {
		raw[y * (size + 1)] = 0; // filter: none
		for (let x = 0; x < size; x++) {
			let index = 0;
			layers.forEach(([, shape], i) => {
				if (shape(x / size, y / size)) index = i + 1;
			});
			raw[y * (size + 1) + 1 + x] = index;
		}
	}
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(size, 0);
	ihdr.writeUInt32BE(size, 4);
	ihdr[8] = 8; // bit depth
	ihdr[9] = 3; // indexed colour
	return Buffer.concat([
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		chunk('IHDR', ihdr),
		chunk('PLTE', Buffer.from(palette.flat())),
		chunk('IDAT', deflateSync(raw, { level: 9 })),
		chunk('IEND', Buffer.alloc(0))
	]);
}

const rect = (x0: number, y0: number, x1: number, y1: number): Shape => (x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1;
const ellipse = (cx: number, cy: number, rx: number, ry: number): Shape => (x, y) => ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1;
const any = (...shapes: Shape[]): Shape => (x, y) => shapes.some((s) => s(x, y));
/** A trapezoid: top edge [tx0, tx1] at y0, bottom edge [bx0, bx1] at y1. */
const trapezoid = (y0: number, y1: number, tx0: number, tx1: number, bx0: number, bx1: number): Shape => (x, y) => {
	if (y < y0 || y > y1) return false;
	const t = (y - y0) / (y1 - y0);
	return x >= tx0 + (bx0 - tx0) * t && x <= tx1 + (bx1 - tx1) * t;
};

/** Category code (server/seed/catalog.ts) → a flat picture of the thing. */
const PRODUCTS: Record<string, { bg: Rgb; colour: Rgb; shape: Shape; extra?: Array<[Rgb, Shape]> }> = {
	// T-shirt: body + sleeves
	TP: { bg: [236, 242, 247], colour: [74, 124, 170], shape: any(rect(0.32, 0.3, 0.68, 0.82), trapezoid(0.22, 0.42, 0.32, 0.68, 0.14, 0.86)) },
	// trousers: waistband + two legs
	BT: { bg: [244, 240, 232], colour: [94, 84, 70], shape: any(rect(0.3, 0.16, 0.7, 0.3), trapezoid(0.3, 0.86, 0.3, 0.49, 0.28, 0.46), trapezoid(0.3, 0.86, 0.51, 0.7, 0.54, 0.72)) },
	// coat: long body, wide shoulders
	OT: { bg: [240, 236, 230], colour: [150, 110, 70], shape: any(trapezoid(0.18, 0.88, 0.3, 0.7, 0.24, 0.76), trapezoid(0.18, 0.6, 0.22, 0.3, 0.12, 0.22), trapezoid(0.18, 0.6, 0.7, 0.78, 0.78, 0.88)) },
	// dress: bodice + flared skirt
	OP: { bg: [248, 236, 240], colour: [190, 90, 120], shape: any(rect(0.4, 0.14, 0.6, 0.42), trapezoid(0.42, 0.88, 0.4, 0.6, 0.2, 0.8)) },
	// sneaker: sole + upper
	SH: {
		bg: [238, 240, 236],
		colour: [60, 60, 60],
		shape: (x, y) => y <= 0.64 && (ellipse(0.36, 0.64, 0.24, 0.26)(x, y) || ellipse(0.66, 0.64, 0.26, 0.12)(x, y)),
		extra: [[[160, 160, 160], rect(0.1, 0.64, 0.92, 0.72)]]
	},
	// tote: body + handle
	BG: { bg: [242, 238, 228], colour: [176, 140, 90], shape: any(rect(0.24, 0.38, 0.76, 0.86), (x, y) => ellipse(0.5, 0.38, 0.16, 0.2)(x, y) && !ellipse(0.5, 0.38, 0.1, 0.14)(x, y) && y < 0.38) },
	// scarf: folded band
	AC: { bg: [238, 236, 244], colour: [120, 96, 160], shape: any(trapezoid(0.2, 0.5, 0.3, 0.7, 0.36, 0.64), rect(0.36, 0.5, 0.48, 0.86), rect(0.52, 0.5, 0.64, 0.8)) },
	// spray can: body + cap
	SC: { bg: [234, 244, 238], colour: [46, 133, 90], shape: any(rect(0.38, 0.32, 0.62, 0.86), rect(0.44, 0.2, 0.56, 0.32)) }
};

const STAFF_COLOURS: Rgb[] = [
	[74, 124, 170],
	[190, 90, 120],
	[46, 133, 90],
	[150, 110, 70],
	[120, 96, 160],
	[200, 120, 40]
];

const root = join(import.meta.dirname, '..', 'static', 'demo-assets');
mkdirSync(join(root, 'products'), { recursive: true });
mkdirSync(join(root, 'staff'), { recursive: true });
for (const [code, p] of Object.entries(PRODUCTS)) {
	writeFileSync(join(root, 'products', `${code.toLowerCase()}.png`), png(SIZE, p.bg, [[p.colour, p.shape], ...(p.extra ?? [])]));
}
STAFF_COLOURS.forEach((colour, i) => {
	// a person: head and shoulders on a light disc
	const person = any(ellipse(0.5, 0.38, 0.17, 0.17), (x, y) => ellipse(0.5, 0.92, 0.33, 0.3)(x, y));
	writeFileSync(join(root, 'staff', `${i + 1}.png`), png(96, [246, 246, 242], [[colour, person]]));
});
console.log(`demo images written to ${root}`);
