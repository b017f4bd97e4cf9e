/**
 * Brand settings. Each feature declares its own setting with a valibot schema and a default
 * (`defineSetting`), so the key, its type and its fallback live next to the code that uses it;
 * this module only stores and validates. A stored value that no longer fits its schema (an
 * older shape) falls back to the default instead of breaking the feature.
 */
import * as v from 'valibot';
import type { DbOrTrx } from '../../db/index.ts';
import { badRequest } from '../../errors.ts';
import { recordSettingChange } from '../audit/audit.service.ts';
import { findSettings, upsertSetting } from './settings.repository.ts';

export interface SettingDefinition<T> {
	key: string;
	schema: v.GenericSchema<unknown, T>;
	fallback: T;
}

export function defineSetting<T>(key: string, schema: v.GenericSchema<unknown, T>, fallback: T): SettingDefinition<T> {
	return { key, schema, fallback };
}

export async function readSetting<T>(db: DbOrTrx, def: SettingDefinition<T>): Promise<T> {
	const stored = (await findSettings(db, [def.key])).get(def.key);
	if (stored === undefined) return def.fallback;
	const parsed = v.safeParse(def.schema, stored);
	return parsed.success ? parsed.output : def.fallback;
}

/** Several settings in one query (each falls back on its own), in the order given. */
export async function readSettings<const D extends readonly SettingDefinition<any>[]>(
	db: DbOrTrx,
	defs: D
): Promise<{ -readonly [K in keyof D]: D[K] extends SettingDefinition<infer T> ? T : never }> {
	const stored = await findSettings(db, defs.map((d) => d.key));
	return defs.map((def) => {
		const value = stored.get(def.key);
		if (value === undefined) return def.fallback;
		const parsed = v.safeParse(def.schema, value);
		return parsed.success ? parsed.output : def.fallback;
	}) as never;
}

/** Checks a value against its setting's schema; an invalid one is a 400 `invalid_setting` naming the field. */
export function parseSetting<T>(def: SettingDefinition<T>, value: unknown, field: string = def.key): T {
	const parsed = v.safeParse(def.schema, value);
	if (!parsed.success) throw badRequest('invalid_setting', `Invalid value for ${def.key}: ${parsed.issues[0]?.message ?? 'invalid'}`, { [field]: parsed.issues[0]?.message ?? 'invalid' });
	return parsed.output;
}

/** JSON with object keys sorted: jsonb gives keys back in its own order. */
function canonical(value: unknown): string {
	return JSON.stringify(value, (_, v: unknown) =>
		v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v
	);
}

/**
 * Validates and stores a new value (400 `invalid_setting` when invalid). A change is audited
 * (`settings.changed`: key, old and new value, who); storing the same value again is not.
 */
export async function writeSetting<T>(db: DbOrTrx, def: SettingDefinition<T>, value: unknown, staffId: string | null): Promise<T> {
	const next = parseSetting(def, value);
	const previous = (await findSettings(db, [def.key])).get(def.key);
	await upsertSetting(db, def.key, next, staffId);
	if (canonical(previous ?? def.fallback) !== canonical(next)) {
		await recordSettingChange(db, { actorStaffId: staffId, key: def.key, from: previous ?? null, to: next });
	}
	return next;
}
