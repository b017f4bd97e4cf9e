/**
 * Request validation with valibot through Hono's Standard Schema validator. Failures become
 * the API's 400 envelope with one message per field, so clients can show them beside inputs.
 *
 * Every validated input also passes the shared text/date rule (safe-input.ts) on its raw form,
 * before the schema's own verdict counts: NUL, lone surrogates and dates outside 1900–2100 are
 * refused here once, for every route, rather than in each schema.
 */
import { sValidator } from '@hono/standard-validator';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { ValidationTargets } from 'hono';
import { badRequest, type FieldErrors } from '../errors.ts';
import { findUnsafeInput } from '../shared/safe-input.ts';

export function issuesToFields(issues: readonly StandardSchemaV1.Issue[]): FieldErrors {
	const fields: FieldErrors = {};
	for (const issue of issues) {
		const path = (issue.path ?? [])
			.map((p) => (typeof p === 'object' && p !== null && 'key' in p ? String(p.key) : String(p)))
			.join('.');
		fields[path || '_'] ??= issue.message;
	}
	return fields;
}

/**
 * The schema's verdict plus the shared rule: an unsafe string makes the code `invalid_text` /
 * `invalid_date` (even where the schema would have let it through), and the schema's other
 * field messages are kept so a form can still show every problem at once.
 */
export function validate<T extends keyof ValidationTargets, S extends StandardSchemaV1>(target: T, schema: S) {
	return sValidator(target, schema, (result) => {
		const unsafe = findUnsafeInput(result.data);
		const fields = result.success ? {} : issuesToFields(result.error);
		if (unsafe) {
			fields[unsafe.path || '_'] = unsafe.message;
			throw badRequest(unsafe.code, `Invalid ${target}: ${unsafe.message}`, fields);
		}
		if (!result.success) throw badRequest('validation_failed', `Invalid ${target}`, fields);
	});
}
