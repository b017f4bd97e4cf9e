import { describe, expect, it } from 'vitest';
import { classifyDecoded, dedupeDecodes } from '../../src/lib/scanner/scanner.ts';

describe('scanner helpers', () => {
	it('passes a code once per window, and a different code at once', () => {
		let clock = 0;
		const seen: string[] = [];
		const handler = dedupeDecodes((t) => seen.push(t), 2_000, () => clock);
		handler('A');
		clock = 500;
		handler('A');
		handler('B');
		clock = 3_000;
		handler('B');
		clock = 4_000;
		handler('B');
		expect(seen).toEqual(['A', 'B', 'B']);
	});

	it('tells member QR tokens, member numbers and product codes apart', () => {
		expect(classifyDecoded('eyJhbGciOiJFZERTQSJ9.eyJtbm8iOiIxIn0.c2ln')).toBe('member_qr');
		expect(classifyDecoded('1000000001')).toBe('member_no');
		expect(classifyDecoded('4901234567894')).toBe('product_code');
		expect(classifyDecoded('KS-SNK-001')).toBe('product_code');
		expect(classifyDecoded('??')).toBe('unknown');
	});
});
