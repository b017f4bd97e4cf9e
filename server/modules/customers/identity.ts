/**
 * Identity normalisation: the same person must produce the same key whichever system sent it.
 * Pure functions; no database.
 */
import type { IdentityKind } from '../../db/types.ts';

export interface IdentityInput {
	line?: string | null;
	ec?: string | null;
	pos?: string | null;
	email?: string | null;
	phone?: string | null;
}

/** Stronger ids first: a platform id beats a contact detail when they point at different people. */
export const IDENTITY_PRIORITY: IdentityKind[] = ['line', 'ec', 'pos', 'email', 'phone'];

export function normalizeEmail(raw: string): string | null {
	const email = raw.trim().toLowerCase();
	return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) ? email : null;
}

/** Japanese numbers to domestic digits: "+81 90-1234-5678" → "09012345678". */
export function normalizePhone(raw: string): string | null {
	let digits = raw.replace(/[^\d+]/g, '');
	if (digits.startsWith('+81')) digits = '0' + digits.slice(3);
	digits = digits.replace(/\D/g, '');
	return digits.length >= 10 && digits.length <= 11 ? digits : null;
}

/**
 * normalizeIdentities for ids that are normalised already (an import's validated rows): the
 * same list, without normalising every value a second time.
 */
export function listIdentities(input: IdentityInput): Array<{ kind: IdentityKind; value: string }> {
	const out: Array<{ kind: IdentityKind; value: string }> = [];
	if (input.line) out.push({ kind: 'line', value: input.line });
	if (input.ec) out.push({ kind: 'ec', value: input.ec });
	if (input.pos) out.push({ kind: 'pos', value: input.pos });
	if (input.email) out.push({ kind: 'email', value: input.email });
	if (input.phone) out.push({ kind: 'phone', value: input.phone });
	return out;
}

/** The ids that normalise, in IDENTITY_PRIORITY order (the strongest first). */
export function normalizeIdentities(input: IdentityInput): Array<{ kind: IdentityKind; value: string }> {
	return listIdentities({
		line: input.line?.trim(),
		ec: input.ec?.trim(),
		pos: input.pos?.trim(),
		email: input.email ? normalizeEmail(input.email) : null,
		phone: input.phone ? normalizePhone(input.phone) : null
	});
}
