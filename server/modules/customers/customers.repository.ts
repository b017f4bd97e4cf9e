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
