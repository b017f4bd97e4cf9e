/**
 * A small seeded PRNG (mulberry32) and the draws the demo generator needs. Same seed, same
 * sequence of calls → same data, on every machine.
 */

export class Rng {
	private state: number;

	constructor(seed: number) {
		this.state = seed >>> 0;
	}

	/** Uniform in [0, 1). */
	next(): number {
		this.state = (this.state + 0x6d2b79f5) >>> 0;
		let t = this.state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	}

	/** Integer in [min, max], both inclusive. */
	int(min: number, max: number): number {
		return min + Math.floor(this.next() * (max - min + 1));
	}

	chance(p: number): boolean {
		return this.next() < p;
	}

	pick<T>(items: readonly T[]): T {
		return items[Math.floor(this.next() * items.length)];
	}

	/** Skewed towards the start of the list: a few best sellers, a long tail. */
	pickPopular<T>(items: readonly T[], skew = 1.8): T {
		return items[Math.floor(Math.pow(this.next(), skew) * items.length)];
	}

	weighted<T>(entries: ReadonlyArray<readonly [T, number]>): T {
		const total = entries.reduce((s, [, w]) => s + w, 0);
		let r = this.next() * total;
		for (const [value, w] of entries) {
			r -= w;
			if (r < 0) return value;
		}
		return entries[entries.length - 1][0];
	}

	shuffle<T>(items: T[]): T[] {
		for (let i = items.length - 1; i > 0; i--) {
			const j = Math.floor(this.next() * (i + 1));
			[items[i], items[j]] = [items[j], items[i]];
		}
		return items;
	}

	digits(n: number): string {
		let s = '';
		for (let i = 0; i < n; i++) s += Math.floor(this.next() * 10);
		return s;
	}

	/** A v4-shaped uuid drawn from the PRNG, so re-seeding gives the same ids. */
	uuid(): string {
		let hex = '';
		for (let i = 0; i < 32; i++) hex += Math.floor(this.next() * 16).toString(16);
		const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
		return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
	}

	/** A LINE webhookEventId-like id (26 Crockford base32 characters, like a ULID). */
	ulid(): string {
		const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
		let s = '01';
		for (let i = 0; i < 24; i++) s += alphabet[Math.floor(this.next() * 32)];
		return s;
	}
}

/** EAN-13 / JAN check digit for the first 12 digits. */
export function janCheckDigit(first12: string): number {
	let sum = 0;
	for (let i = 0; i < 12; i++) sum += Number(first12[i]) * (i % 2 === 0 ? 1 : 3);
	return (10 - (sum % 10)) % 10;
}

export function isValidJan(jan: string): boolean {
	return /^\d{13}$/.test(jan) && janCheckDigit(jan.slice(0, 12)) === Number(jan[12]);
}
