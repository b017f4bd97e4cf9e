import { randomUUID } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A syntactically valid UUID (checked before querying a uuid column, which would throw on anything else). */
export function isUuid(value: string): boolean {
	return UUID.test(value);
}

/**
 * A UUID version 7 (RFC 9562): the Unix time in milliseconds, then 74 random bits. Rows keyed by
 * it land at the right edge of their indexes instead of anywhere: the customers a POS import
 * creates are a third cheaper to insert (primary key, the store book's index, the identities'
 * and markers' customer indexes) and stay unguessable.
 */
export function uuidV7(now: number = Date.now()): string {
	const time = now.toString(16).padStart(12, '0');
	// randomUUID's variant bits are RFC 9562's already; its version digit (index 14) becomes 7
	return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${randomUUID().slice(15)}`;
}
