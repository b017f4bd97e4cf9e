/**
 * One owner per table: every statement under server/ that writes a table (Kysely insertInto /
 * updateTable / deleteFrom / mergeInto, SQL insert / update / delete / truncate / COPY … FROM,
 * reassignCustomerRows) must sit in the module docs/architecture.md names as the table's owner.
 * The owner list is read from that document, so the document and the code cannot drift apart.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

/** `| \`t1\`, \`t2\` | \`owner\` | notes |` rows of the architecture document's table list. */
function ownersFromDoc(): Map<string, string> {
	const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
	const owners = new Map<string, string>();
	for (const line of doc.split('\n')) {
		const m = /^\|\s*((?:`[a-z_*]+`(?:,\s*)?)+)\s*\|\s*`([a-z-]+)`/.exec(line);
		if (!m) continue;
		for (const t of m[1].matchAll(/`([a-z_*]+)`/g)) owners.set(t[1], m[2]);
	}
	return owners;
}

function ownerOf(owners: Map<string, string>, table: string): string | undefined {
	if (owners.has(table)) return owners.get(table);
	for (const [pattern, owner] of owners) {
		if (pattern.endsWith('*') && table.startsWith(pattern.slice(0, -1))) return owner;
	}
	return undefined;
}

/** The module a server file belongs to: server/modules/<m>/…, else its top folder (ingest, seed, db, …). */
function moduleOf(file: string): string {
	const parts = relative(join(ROOT, 'server'), file).split('/');
	return parts[0] === 'modules' ? parts[1] : parts[0];
}

function* tsFiles(dir: string): Generator<string> {
	for (const name of readdirSync(dir)) {
		const path = join(dir, name);
		if (statSync(path).isDirectory()) yield* tsFiles(path);
		else if (name.endsWith('.ts')) yield path;
	}
}

const WRITE_PATTERNS = [
	/\.(?:insertInto|updateTable|deleteFrom|mergeInto)\(\s*'([a-z_]+)/g,
	/\b(?:insert\s+into|delete\s+from|truncate(?:\s+table)?)\s+([a-z_]+)\b/gi,
	/\bcopy\s+([a-z_]+)\s*(?:\(|from\b|\$\{)/gi,
	/\bupdate\s+([a-z_]+)\s+(?:[a-z_]+\s+)?set\b/gi,
	/reassignCustomerRows\(\s*\w+,\s*'([a-z_]+)'/g
];

/** Writes of tables no module owns in production: TEMP staging tables of the module that creates them. */
const TEMP_TABLES: Record<string, string> = {
	pos_stage_line: 'purchases',
	pos_stage_receipt: 'purchases',
	pos_stage_id: 'purchases',
	pos_stage_touched: 'purchases',
	identity_keys_next: 'identity'
};

/**
 * Writers that are not the owner, each with its reason (the list shrinks, it must not grow):
 * the demo/bench seed bulk-writes every table (not runtime code).
 */
const KNOWN_EXCEPTIONS: Array<{ module: string; table?: string }> = [{ module: 'seed' }];
const isKnownException = (module: string, table: string) =>
	KNOWN_EXCEPTIONS.some((e) => e.module === module && (e.table === undefined || e.table === table));

/** Words after "update"/"copy" etc. in comments and SQL that are not tables. */
const NOT_TABLES = new Set(['from', 'stdin', 'set', 'the', 'a', 'it', 'its', 'them', 'only', 'each', 'every', 'to', 'of', 'and', 'or']);

function writesIn(source: string): Array<{ table: string; line: number }> {
	const out: Array<{ table: string; line: number }> = [];
	// comments say "insert into X" in prose; only code counts
	const code = source.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
	for (const re of WRITE_PATTERNS) {
		for (const m of code.matchAll(re)) {
			const table = m[1].toLowerCase();
			if (NOT_TABLES.has(table)) continue;
			out.push({ table, line: code.slice(0, m.index).split('\n').length });
		}
	}
	return out;
}

describe('one owner per table', () => {
	const owners = ownersFromDoc();

	it('docs/architecture.md lists owners', () => {
		expect(owners.get('store_purchases')).toBe('purchases');
		expect(owners.get('ec_orders')).toBe('orders');
	});

	it('no module writes a table it does not own', () => {
		const foreign: string[] = [];
		const unlisted: string[] = [];
		for (const file of tsFiles(join(ROOT, 'server'))) {
			const module = moduleOf(file);
			for (const { table, line } of writesIn(readFileSync(file, 'utf8'))) {
				const where = `${relative(ROOT, file)}:${line} ${table}`;
				const owner = TEMP_TABLES[table] ?? ownerOf(owners, table);
				if (!owner) unlisted.push(where);
				else if (owner !== module && !isKnownException(module, table)) foreign.push(`${where} (owner ${owner}, written by ${module})`);
			}
		}
		expect(unlisted, 'tables written but missing from docs/architecture.md').toEqual([]);
		expect(foreign, 'writes outside the owning module').toEqual([]);
	});
});
