import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../../db/index.ts';
import type { IdentityKind, NewCustomer } from '../../db/types.ts';

export async function findCustomerIdsByIdentities(
	db: DbOrTrx,
	identities: Array<{ kind: IdentityKind; value: string }>
): Promise<Array<{ kind: IdentityKind; customer_id: string }>> {
	if (identities.length === 0) return [];
	return db
		.selectFrom('customer_identities')
		.innerJoin('customers', 'customers.id', 'customer_identities.customer_id')
		// a merged record forwards to its survivor
		.select(['customer_identities.kind', sql<string>`coalesce(customers.merged_into, customers.id)`.as('customer_id')])
		.where((eb) => eb.or(identities.map((i) => eb.and([eb('kind', '=', i.kind), eb('value', '=', i.value)]))))
		.execute();
}

export async function attachIdentities(
	db: DbOrTrx,
	customerId: string,
	identities: Array<{ kind: IdentityKind; value: string }>
): Promise<void> {
	if (identities.length === 0) return;
	await db
		.insertInto('customer_identities')
		.values(identities.map((i) => ({ customer_id: customerId, kind: i.kind, value: i.value })))
		.onConflict((oc) => oc.columns(['kind', 'value']).doNothing())
		.execute();
}

export async function nextMemberNo(db: DbOrTrx): Promise<string> {
	const row = await sql<{ n: number }>`select nextval('member_no_seq') as n`.execute(db);
	return String(row.rows[0].n);
}

export async function insertCustomer(db: DbOrTrx, values: NewCustomer): Promise<string> {
	const row = await db.insertInto('customers').values(values).returning('id').executeTakeFirstOrThrow();
	return row.id;
}

/** Serialises resolution of the same identity across processes for the rest of the transaction. */
export async function lockIdentity(trx: Trx, kind: IdentityKind, value: string): Promise<void> {
	await sql`select pg_advisory_xact_lock(hashtext(${`${kind}:${value}`}))`.execute(trx);
}

// ── set-based versions for bulk ingestion (CSV import) ─────────────────────────────────────

export interface IdentityOwner {
	kind: IdentityKind;
	value: string;
	customer_id: string;
}

/** Owners of many identities in one query (merged records forward to their survivor). */
export async function findIdentityOwners(
	db: DbOrTrx,
	identities: Array<{ kind: IdentityKind; value: string }>
): Promise<IdentityOwner[]> {
	if (identities.length === 0) return [];
	const result = await sql<IdentityOwner>`
		select ci.kind, ci.value, coalesce(c.merged_into, c.id) as customer_id
		from unnest(${identities.map((i) => i.kind)}::text[], ${identities.map((i) => i.value)}::text[]) as u(kind, value)
		join customer_identities ci on ci.kind = u.kind and ci.value = u.value
		join customers c on c.id = ci.customer_id`.execute(db);
	return result.rows;
}

/** Customers by member number, in one query (merged records forward to their survivor). */
export async function findCustomerIdsByMemberNos(
	db: DbOrTrx,
	memberNos: string[]
): Promise<Array<{ member_no: string; customer_id: string }>> {
	if (memberNos.length === 0) return [];
	const result = await sql<{ member_no: string; customer_id: string }>`
		select member_no, coalesce(merged_into, id) as customer_id
		from customers where member_no = any(${memberNos}::text[])`.execute(db);
	return result.rows;
}

/** `count` fresh member numbers from the shared sequence, ascending. */
export async function nextMemberNos(db: DbOrTrx, count: number): Promise<string[]> {
	if (count === 0) return [];
	const result = await sql<{ n: number }>`select nextval('member_no_seq') as n from generate_series(1, ${count}::int)`.execute(db);
	return result.rows.map((r) => r.n).sort((a, b) => a - b).map(String);
}

/** Inserts customers with their ids given (chunked under the bind-parameter limit). */
export async function insertCustomers(db: DbOrTrx, rows: Array<NewCustomer & { id: string }>): Promise<void> {
	const perChunk = 2000;
	for (let i = 0; i < rows.length; i += perChunk) {
		await db.insertInto('customers').values(rows.slice(i, i + perChunk)).execute();
	}
}

/** Attaches many (customer, kind, value) identities; ids someone already owns are left alone. */
export async function attachIdentitiesBatch(
	db: DbOrTrx,
	rows: Array<{ customer_id: string; kind: IdentityKind; value: string }>
): Promise<void> {
	if (rows.length === 0) return;
	await sql`
		insert into customer_identities (customer_id, kind, value)
		select * from unnest(${rows.map((r) => r.customer_id)}::uuid[], ${rows.map((r) => r.kind)}::text[], ${rows.map((r) => r.value)}::text[])
		on conflict (kind, value) do nothing`.execute(db);
}

/** The advisory locks of `lockIdentity` for many keys, taken in a fixed order (no deadlocks). */
export async function lockIdentities(trx: Trx, keys: Array<{ kind: IdentityKind; value: string }>): Promise<void> {
	if (keys.length === 0) return;
	await sql`
		select count(pg_advisory_xact_lock(h)) from (
			select distinct hashtext(k) as h from unnest(${keys.map((k) => `${k.kind}:${k.value}`)}::text[]) as k order by 1
		) as ordered`.execute(trx);
}
