/** 接客記録: Kysely only. */
import { reassignCustomerRows, type ReassignOptions } from '../../shared/reassign-customer.ts';
import type { DbOrTrx } from '../../db/index.ts';
import type { ConsultationItem } from '../../db/types.ts';

export interface ConsultationInsert {
	id: string;
	customer_id: string | null;
	member_no: string | null;
	store_id: string;
	staff_id: string;
	device_id: string | null;
	occurred_at: Date;
	items: ConsultationItem[];
	sizes: Record<string, string>;
	notes: string;
	tags: string[];
	next_action: string | null;
	next_action_due: string | null;
}

/** Inserts unless the id exists; true when this call created the row. */
export async function insertConsultationOnce(db: DbOrTrx, values: ConsultationInsert): Promise<boolean> {
	const row = await db
		.insertInto('consultations')
		.values({ ...values, items: JSON.stringify(values.items), sizes: JSON.stringify(values.sizes), legacy_sizes: '{}' })
		.onConflict((oc) => oc.column('id').doNothing())
		.returning('id')
		.executeTakeFirst();
	return row !== undefined;
}

function withNames(db: DbOrTrx) {
	return db
		.selectFrom('consultations as c')
		.innerJoin('staff as st', 'st.id', 'c.staff_id')
		.innerJoin('stores as s', 's.id', 'c.store_id')
		.selectAll('c')
		.select(['st.display_name as staff_name', 's.name as store_name']);
}

export async function findConsultation(db: DbOrTrx, id: string) {
	return withNames(db).where('c.id', '=', id).executeTakeFirst();
}

export async function listForCustomers(db: DbOrTrx, customerIds: string[], limit: number) {
	return withNames(db)
		.where('c.customer_id', 'in', customerIds)
		.orderBy('c.occurred_at', 'desc')
		.orderBy('c.created_at', 'desc')
		.limit(limit)
		.execute();
}

export type ConsultationWithNames = NonNullable<Awaited<ReturnType<typeof findConsultation>>>;

export async function customerExists(db: DbOrTrx, customerId: string) {
	return db
		.selectFrom('customers')
		.select(['id', 'merged_into'])
		.where('id', '=', customerId)
		.executeTakeFirst();
}

export async function mergedInto(db: DbOrTrx, customerId: string): Promise<string[]> {
	const rows = await db.selectFrom('customers').select('id').where('merged_into', '=', customerId).execute();
	return rows.map((r) => r.id);
}

/** Erasure: a consultation keeps its store, staff and time; notes, sizes (and legacy sizes), tags and items go. */
export async function eraseConsultationsOf(db: DbOrTrx, customerId: string, memberNos: string[]): Promise<void> {
	await db
		.updateTable('consultations')
		.set({ notes: '', sizes: JSON.stringify({}) as never, legacy_sizes: JSON.stringify({}) as never, items: JSON.stringify([]) as never, tags: [], next_action: null, next_action_due: null, member_no: null })
		.where((eb) => (memberNos.length > 0 ? eb.or([eb('customer_id', '=', customerId), eb('member_no', 'in', memberNos)]) : eb('customer_id', '=', customerId)))
		.execute();
}

/** Merge (and its undo): moves a customer's consultations to another customer; returns the moved ids. */
export function reassignConsultations(trx: DbOrTrx, from: string, to: string, options?: ReassignOptions): Promise<string[]> {
	return reassignCustomerRows(trx, 'consultations', 'id', from, to, options);
}
