/**
 * Request validation with valibot through Hono's Standard Schema validator. Failures become
 * the API's 400 envelope with one message per field, so clients can show them beside inputs.
 */
import { sValidator } from '@hono/standard-validator';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { ValidationTargets } from 'hono';
import { badRequest, type FieldErrors } from '../errors.ts';

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

export function validate<T extends keyof ValidationTargets, S extends StandardSchemaV1>(target: T, schema: S) {
	return sValidator(target, schema, (result) => {
		if (!result.success) {
			throw badRequest('validation_failed', `Invalid ${target}`, issuesToFields(result.error));
		}
	});
}
