/**
 * Brand settings. Each feature declares its own setting with a valibot schema and a default
 * (`defineSetting`), so the key, its type and its fallback live next to the code that uses it;
 * this module only stores and validates. A stored value that no longer fits its schema (an
 * older shape) falls back to the default instead of breaking the feature.
 */
import * as v from 'valibot';
import type { DbOrTrx } from '../../db/index.ts';
import { badRequest } from '../../errors.ts';
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

/** Validates and stores a new value; an invalid one is a 400 `invalid_setting`. */
export async function writeSetting<T>(db: DbOrTrx, def: SettingDefinition<T>, value: unknown, staffId: string | null): Promise<T> {
	const parsed = v.safeParse(def.schema, value);
	if (!parsed.success) throw badRequest('invalid_setting', `Invalid value for ${def.key}`);
	await upsertSetting(db, def.key, parsed.output, staffId);
	return parsed.output;
}
