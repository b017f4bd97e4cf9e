import { describe, expect, it } from 'vitest';
import { listIdentities, normalizeEmail, normalizeIdentities, normalizePhone } from '../../server/modules/customers/identity.ts';

describe('identities', () => {
	it('normalise e-mail and Japanese phone numbers, refusing what is not one', () => {
		expect(normalizeEmail('  Hanako@Example.JP ')).toBe('hanako@example.jp');
		expect(normalizeEmail('bad@')).toBeNull();
		expect(normalizePhone('+81 90-1234-5678')).toBe('09012345678');
		expect(normalizePhone('03-1234-5678')).toBe('0312345678');
		expect(normalizePhone('12345')).toBeNull();
	});

	it('are listed strongest first; ids that are normalised already list the same without normalising', () => {
		const raw = { phone: '+81 90-1234-5678', email: ' A@B.JP ', pos: ' P-1 ', ec: '77', line: 'U1' };
		const normalized = normalizeIdentities(raw);
		expect(normalized.map((i) => i.kind)).toEqual(['line', 'ec', 'pos', 'email', 'phone']);
		const again = Object.fromEntries(normalized.map((i) => [i.kind, i.value]));
		expect(listIdentities(again)).toEqual(normalized);
		expect(listIdentities({ pos: 'P-2', email: null, phone: undefined })).toEqual([{ kind: 'pos', value: 'P-2' }]);
	});
});
