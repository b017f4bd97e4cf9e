import { reassignCustomerRows, type ReassignOptions } from '../../shared/reassign-customer.ts';
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../../db/index.ts';
import type { Customer, IdentityKind, NewCustomer } from '../../db/types.ts';
import { boolArray, textArray, uuidArray } from '../../db/pg-array.ts';

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
		from unnest(${textArray(identities.map((i) => i.kind))}::text[], ${textArray(identities.map((i) => i.value))}::text[]) as u(kind, value)
		-- a LATERAL … LIMIT 1 is an index probe per id whatever the planner's stale statistics say
		-- (a hash join would scan the whole table once per batch: quadratic over a big import)
		cross join lateral (
			select x.kind, x.value, x.customer_id from customer_identities x where x.kind = u.kind and x.value = u.value limit 1
		) as ci
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
		select c.member_no, coalesce(c.merged_into, c.id) as customer_id
		from unnest(${textArray(memberNos)}::text[]) as u(member_no)
		cross join lateral (select member_no, merged_into, id from customers where member_no = u.member_no limit 1) as c`.execute(db);
	return result.rows;
}

/** Column types of `customers`, for inserting many rows as one set of arrays. */
const CUSTOMER_COLUMNS: Record<string, { type: string; otherwise?: string }> = {
	id: { type: 'uuid' },
	// a row without one gets the next number, in row order (nextval per row as unnest yields them)
	member_no: { type: 'text', otherwise: "nextval('member_no_seq')::text" },
	family_name: { type: 'text' },
	given_name: { type: 'text' },
	family_kana: { type: 'text' },
	given_kana: { type: 'text' },
	birthday: { type: 'date' },
	email: { type: 'text' },
	phone: { type: 'text' },
	home_store_id: { type: 'text' },
	consent_terms_at: { type: 'timestamptz' },
	consent_messages: { type: 'boolean', otherwise: 'false' },
	consent_messages_at: { type: 'timestamptz' },
	line_user_id: { type: 'text' },
	line_friend: { type: 'boolean', otherwise: 'false' },
	line_blocked_at: { type: 'timestamptz' },
	merged_into: { type: 'uuid' }
};

/**
 * Inserts customers with their ids given, as one array per column (`unnest`): a statement of a
 * few parameters however many rows, instead of a VALUES list with thousands of them. Rows
 * whose member_no is null get fresh numbers from member_no_seq, ascending in row order.
 */
export async function insertCustomers(
	db: DbOrTrx,
	rows: Array<Omit<NewCustomer, 'member_no'> & { id: string; member_no: string | null }>
): Promise<void> {
	if (rows.length === 0) return;
	const present = Object.keys(CUSTOMER_COLUMNS).filter((c) => c === 'member_no' || rows.some((r) => (r as Record<string, unknown>)[c] != null));
	const unknown = rows.flatMap((r) => Object.keys(r)).find((k) => !(k in CUSTOMER_COLUMNS) && !['created_at', 'updated_at'].includes(k));
	if (unknown) throw new Error(`insertCustomers: unsupported column ${unknown}`);
	// as array literals (pg-array.ts): cheaper to build and to send than the driver's arrays
	const value = (v: unknown) => (v instanceof Date ? v.toISOString() : typeof v === 'boolean' ? (v ? 't' : 'f') : v == null ? null : String(v));
	const arrays = present.map((c) => {
		const values = rows.map((r) => value((r as Record<string, unknown>)[c]));
		return sql`${CUSTOMER_COLUMNS[c].type === 'uuid' ? uuidArray(values) : textArray(values)}::${sql.raw(CUSTOMER_COLUMNS[c].type)}[]`;
	});
	const selects = present.map((c) => {
		const otherwise = CUSTOMER_COLUMNS[c].otherwise;
		return otherwise ? sql`coalesce(${sql.ref(`u.${c}`)}, ${sql.raw(otherwise)})` : sql.ref(`u.${c}`);
	});
	await sql`
		insert into customers (${sql.join(present.map((c) => sql.ref(c)))})
		select ${sql.join(selects)}
		from unnest(${sql.join(arrays)}) as u(${sql.join(present.map((c) => sql.ref(c)))})`.execute(db);
}

/**
 * Attaches many (customer, kind, value) identities; ids someone already owns are left alone.
 * `plain`: the caller knows none is owned (it looked them up under lock), so no ON CONFLICT
 * (its speculative insertion costs per row); should another session attach one meanwhile, the
 * insert fails on customer_identities_kind_value_key instead.
 */
export async function attachIdentitiesBatch(
	db: DbOrTrx,
	rows: Array<{ customer_id: string; kind: IdentityKind; value: string }>,
	options: { plain?: boolean } = {}
): Promise<void> {
	if (rows.length === 0) return;
	await sql`
		insert into customer_identities (customer_id, kind, value)
		select * from unnest(${uuidArray(rows.map((r) => r.customer_id))}::uuid[], ${textArray(rows.map((r) => r.kind))}::text[], ${textArray(rows.map((r) => r.value))}::text[])
		${options.plain ? sql`` : sql`on conflict (kind, value) do nothing`}`.execute(db);
}

/**
 * Locks the given stores and customers FOR KEY SHARE (as foreign-key checks would), then sets
 * replica mode for the rest of the transaction; returns how many of each are missing.
 */
export async function lockResolveReferences(
	trx: Trx,
	refs: { stores: string[]; customers: string[] }
): Promise<{ stores: number; customers: number }> {
	const { rows } = await sql<{ stores: number; customers: number }>`
		with s as (select id from stores where id = any(${textArray(refs.stores)}::text[]) for key share),
		c as (select id from customers where id = any(${uuidArray(refs.customers)}::uuid[]) for key share)
		select ${refs.stores.length}::int - (select count(*) from s)::int as stores,
			${refs.customers.length}::int - (select count(*) from c)::int as customers,
			set_config('session_replication_role', 'replica', true) as role`.execute(trx);
	return rows[0];
}

/** The advisory locks of `lockIdentity` for many keys, taken in a fixed order (no deadlocks). */
export async function lockIdentities(trx: Trx, keys: Array<{ kind: IdentityKind; value: string }>): Promise<void> {
	if (keys.length === 0) return;
	await sql`
		select count(pg_advisory_xact_lock(h)) from (
			select distinct hashtext(k) as h from unnest(${textArray(keys.map((k) => `${k.kind}:${k.value}`))}::text[]) as k order by 1
		) as ordered`.execute(trx);
}

// ── ownership (担当): written only here; the client book module decides who and why ─────────

export interface OwnershipRow {
	id: string;
	owner_staff_id: string | null;
	home_store_id: string | null;
	merged_into: string | null;
}

/** The customers' current owner and home store, locked FOR UPDATE (in id order: no deadlocks). */
export async function lockOwnership(trx: Trx, customerIds: string[]): Promise<OwnershipRow[]> {
	if (customerIds.length === 0) return [];
	const { rows } = await sql<OwnershipRow>`
		select id, owner_staff_id, home_store_id, merged_into from customers
		where id = any(${uuidArray(customerIds)}::uuid[]) order by id for update`.execute(trx);
	return rows;
}

/** Customers owned by a staff member (not merged away), locked FOR UPDATE, in id order. */
export async function lockOwnedBy(trx: Trx, staffId: string): Promise<OwnershipRow[]> {
	const { rows } = await sql<OwnershipRow>`
		select id, owner_staff_id, home_store_id, merged_into from customers
		where owner_staff_id = ${staffId} and merged_into is null order by id for update`.execute(trx);
	return rows;
}

/** Sets one owner (NULL = the store book) on many customers. */
export async function updateOwner(trx: Trx, customerIds: string[], ownerStaffId: string | null): Promise<void> {
	if (customerIds.length === 0) return;
	// updated_at is left alone: the change and its time are in customer_owner_changes
	await sql`update customers set owner_staff_id = ${ownerStaffId}
		where id = any(${uuidArray(customerIds)}::uuid[])`.execute(trx);
}

/** How many customers (not merged away) a staff member owns. */
export async function countOwnedBy(db: DbOrTrx, staffId: string): Promise<number> {
	const row = await db
		.selectFrom('customers')
		.select((eb) => eb.fn.countAll<string>().as('n'))
		.where('owner_staff_id', '=', staffId)
		.where('merged_into', 'is', null)
		.executeTakeFirstOrThrow();
	return Number(row.n);
}

/** Every identifier stored for a customer (for scrubbing copies elsewhere before erasure). */
export async function identifiersOf(db: DbOrTrx, customerId: string): Promise<string[]> {
	const c = await db
		.selectFrom('customers')
		.select(['member_no', 'email', 'phone', 'line_user_id', 'family_name', 'given_name', 'family_kana', 'given_kana'])
		.where('id', '=', customerId)
		.executeTakeFirst();
	const ids = await db.selectFrom('customer_identities').select('value').where('customer_id', '=', customerId).execute();
	const values = [c?.member_no, c?.email, c?.phone, c?.line_user_id, ...ids.map((i) => i.value)];
	return [...new Set(values.filter((v): v is string => typeof v === 'string' && v.length > 0))];
}

/**
 * Erasure (issue 16 §3): the row stays, so purchases, orders and staff credit keep pointing at
 * one (anonymous) customer and reports stay true; everything that identifies the person goes.
 */
export async function anonymiseCustomer(trx: Trx, customerId: string, at: Date): Promise<void> {
	await trx.deleteFrom('customer_identities').where('customer_id', '=', customerId).execute();
	await trx
		.updateTable('customers')
		.set({
			member_no: sql<string>`'erased-' || id::text`,
			family_name: null,
			given_name: null,
			family_kana: null,
			given_kana: null,
			birthday: null,
			birth_month_day: null,
			email: null,
			phone: null,
			postcode: null,
			address: null,
			line_user_id: null,
			line_friend: false,
			consent_messages: false,
			owner_staff_id: null,
			erased_at: at,
			updated_at: at
		})
		.where('id', '=', customerId)
		.execute();
}

export async function setMessageConsentFlag(trx: DbOrTrx, customerId: string, granted: boolean, at: Date): Promise<void> {
	await trx.updateTable('customers').set({ consent_messages: granted, consent_messages_at: at, updated_at: at }).where('id', '=', customerId).execute();
}

export interface MemberProfileFields {
	family_kana: string;
	given_kana: string | null;
	birthday: string | null;
	birth_month_day: string | null;
	phone: string | null;
	home_store_id: string | null;
}

/** The member's own answers from the card (kana, birthday, phone, home store). */
export async function updateMemberProfile(trx: Trx, customerId: string, fields: MemberProfileFields, at: Date): Promise<void> {
	await trx.updateTable('customers').set({ ...fields, updated_at: at }).where('id', '=', customerId).execute();
	await trx.deleteFrom('customer_identities').where('customer_id', '=', customerId).where('kind', '=', 'phone').execute();
	if (fields.phone) {
		await trx
			.insertInto('customer_identities')
			.values({ customer_id: customerId, kind: 'phone', value: fields.phone })
			.onConflict((oc) => oc.columns(['kind', 'value']).doNothing())
			.execute();
	}
}

/**
 * The reading staff asked for in the store, only where none is on file: a replay of the same
 * record, or one that arrives after the member typed their own on the card, changes nothing.
 * Returns whether it was written.
 */
export async function fillMissingKana(trx: DbOrTrx, customerId: string, familyKana: string, givenKana: string | null, at: Date): Promise<boolean> {
	const rows = await trx
		.updateTable('customers')
		.set({ family_kana: familyKana, given_kana: givenKana, updated_at: at })
		.where('id', '=', customerId)
		.where((eb) => eb.or([eb('family_kana', 'is', null), eb('family_kana', '=', '')]))
		.returning('id')
		.execute();
	return rows.length > 0;
}

/** Merge (and its undo): moves a customer's identities (LINE, EC, POS, email, phone) to another customer; returns the moved ids. */
export function reassignIdentities(trx: DbOrTrx, from: string, to: string, options?: ReassignOptions): Promise<string[]> {
	return reassignCustomerRows(trx, 'customer_identities', 'id', from, to, options);
}

// ── merge support (server/modules/identity): the customers module keeps its own table ──────

/** The profile fields a merge may fill on the survivor, and the LINE membership that moves as one. */
export const MERGE_PROFILE_FIELDS = ['family_name', 'given_name', 'family_kana', 'given_kana', 'birthday', 'email', 'phone', 'home_store_id', 'postcode', 'address', 'owner_staff_id'] as const;
export const MERGE_LINE_FIELDS = ['line_user_id', 'line_friend', 'line_blocked_at', 'line_status_changed_at', 'consent_terms_at', 'consent_messages', 'consent_messages_at'] as const;
type MergeField = (typeof MERGE_PROFILE_FIELDS)[number] | (typeof MERGE_LINE_FIELDS)[number];
export type MergeRecord = { id: string; member_no: string; merged_into: string | null; created_at: Date } & Record<MergeField, unknown>;

/** Both records of a merge, locked FOR UPDATE in id order (two merges of one pair cannot deadlock). */
export async function lockCustomersForMerge(trx: Trx, ids: string[]): Promise<MergeRecord[]> {
	const rows = await trx
		.selectFrom('customers')
		.select(['id', 'member_no', 'merged_into', 'created_at', ...MERGE_PROFILE_FIELDS, ...MERGE_LINE_FIELDS])
		.where('id', 'in', ids)
		.orderBy('id')
		.forUpdate()
		.execute();
	return rows as unknown as MergeRecord[];
}

/** Sets some of the merge fields (and merged_into) of one record. */
export async function updateMergeFields(trx: Trx, id: string, fields: Partial<Record<MergeField | 'merged_into', unknown>>): Promise<void> {
	if (Object.keys(fields).length === 0) return;
	await trx
		.updateTable('customers')
		.set({ ...(fields as Record<string, never>), updated_at: new Date() })
		.where('id', '=', id)
		.execute();
}

/** Records merged into `from` earlier now forward to `to` (one hop: lookups follow merged_into once). */
export async function repointMergedInto(trx: Trx, from: string, to: string, onlyIds?: readonly string[]): Promise<string[]> {
	if (onlyIds && onlyIds.length === 0) return [];
	let q = trx.updateTable('customers').set({ merged_into: to, updated_at: new Date() }).where('merged_into', '=', from);
	if (onlyIds) q = q.where('id', 'in', [...onlyIds]);
	const rows = await q.returning('id').execute();
	return rows.map((r) => r.id);
}

/** A customer's fields the identity matcher reads (customers and their email / phone / LINE identities). */
export interface MatchableRow {
	id: string;
	merged_into: string | null;
	family_name: string | null;
	given_name: string | null;
	family_kana: string | null;
	given_kana: string | null;
	birthday: string | null;
	email: string | null;
	phone: string | null;
	line_user_id: string | null;
	postcode: string | null;
	address: string | null;
	identities: Array<{ kind: string; value: string }> | null;
}

/** The records the matcher reads (not merged away), with their email / phone / LINE identities. */
export async function findMatchableCustomers(db: DbOrTrx, ids: string[]) {
	if (ids.length === 0) return [];
	const { rows } = await sql<MatchableRow>`
		select c.id, c.merged_into, c.family_name, c.given_name, c.family_kana, c.given_kana, to_char(c.birthday, 'YYYY-MM-DD') as birthday,
			c.email, c.phone, c.line_user_id, c.postcode, c.address,
			(select json_agg(json_build_object('kind', i.kind, 'value', i.value)) from customer_identities i
				where i.customer_id = c.id and i.kind in ('email', 'phone', 'line')) as identities
		from customers c where c.id = any(${uuidArray(ids)}::uuid[])`.execute(db);
	return rows.map((r) => ({ ...r, identities: r.identities ?? [] }));
}

// ── customer master (CSV import) ────────────────────────────────────────────────────────────

/** A customer row's master fields as the file gives them (the table's own columns; null keeps what is stored). */
export type CustomerProfileUpdate = Pick<
	Customer,
	'id' | 'family_name' | 'given_name' | 'family_kana' | 'given_kana' | 'birthday' | 'email' | 'phone' | 'home_store_id'
> & { consent_messages: boolean | null };

/**
 * Master data from the file wins over what is stored, cell by cell: an empty cell keeps the
 * stored value. Rows whose values are already the same are not touched (re-imports are no-ops).
 */
export async function updateCustomerProfiles(trx: Trx, rows: CustomerProfileUpdate[]): Promise<number> {
	if (rows.length === 0) return 0;
	const col = <K extends keyof CustomerProfileUpdate>(k: K) => rows.map((r) => r[k]);
	const result = await sql<{ n: number }>`
		with u as (
			select * from unnest(
				${textArray(col('id'))}::uuid[], ${textArray(col('family_name'))}::text[], ${textArray(col('given_name'))}::text[], ${textArray(col('family_kana'))}::text[],
				${textArray(col('given_kana'))}::text[], ${textArray(col('birthday'))}::date[], ${textArray(col('email'))}::text[], ${textArray(col('phone'))}::text[],
				${textArray(col('home_store_id'))}::text[], ${boolArray(col('consent_messages'))}::boolean[]
			) as u(id, family_name, given_name, family_kana, given_kana, birthday, email, phone, home_store_id, consent_messages)
		), next as (
			select c.id,
				coalesce(u.family_name, c.family_name) as family_name, coalesce(u.given_name, c.given_name) as given_name,
				coalesce(u.family_kana, c.family_kana) as family_kana, coalesce(u.given_kana, c.given_kana) as given_kana,
				coalesce(u.birthday, c.birthday) as birthday, coalesce(u.email, c.email) as email,
				coalesce(u.phone, c.phone) as phone, coalesce(u.home_store_id, c.home_store_id) as home_store_id,
				coalesce(u.consent_messages, c.consent_messages) as consent_messages
			from u join customers c on c.id = u.id
		), up as (
			update customers c set family_name = n.family_name, given_name = n.given_name, family_kana = n.family_kana,
				given_kana = n.given_kana, birthday = n.birthday, email = n.email, phone = n.phone,
				home_store_id = n.home_store_id, consent_messages = n.consent_messages,
				consent_messages_at = case when n.consent_messages and not c.consent_messages then now() else c.consent_messages_at end,
				updated_at = now()
			from next n
			where c.id = n.id and (c.family_name, c.given_name, c.family_kana, c.given_kana, c.birthday, c.email, c.phone,
					c.home_store_id, c.consent_messages)
				is distinct from (n.family_name, n.given_name, n.family_kana, n.given_kana, n.birthday, n.email, n.phone,
					n.home_store_id, n.consent_messages)
			returning 1
		)
		select count(*)::int as n from up`.execute(trx);
	return result.rows[0].n;
}

/** Imported member numbers may be ahead of the sequence: move it past them so new ones never collide. */
export async function advanceMemberNoSequence(trx: Trx, memberNos: string[]): Promise<void> {
	const numeric = memberNos.filter((m) => /^\d{1,15}$/.test(m)).map(Number);
	if (numeric.length === 0) return;
	const max = Math.max(...numeric);
	await sql`select setval('member_no_seq', ${max}::bigint) where ${max}::bigint >= (select last_value from member_no_seq)`.execute(trx);
}

// ── LINE (member linking) ────────────────────────────────────────────────────────────────────

/** Member card linking: the LINE account, terms and message consent, and the `line` identity. */
export async function linkLineAndConsent(
	trx: Trx,
	customerId: string,
	values: { lineUserId: string; messagesOptIn: boolean; at: Date }
): Promise<void> {
	await trx
		.updateTable('customers')
		.set({
			line_user_id: values.lineUserId,
			consent_terms_at: values.at,
			consent_messages: values.messagesOptIn,
			consent_messages_at: values.at,
			updated_at: values.at
		})
		.where('id', '=', customerId)
		.execute();
	await trx
		.insertInto('customer_identities')
		.values({ customer_id: customerId, kind: 'line', value: values.lineUserId })
		.onConflict((oc) => oc.columns(['kind', 'value']).doNothing())
		.execute();
}

/**
 * Applies a follow/unfollow only when it is newer than the change applied last, so redelivered
 * or reordered events converge on the latest state. Returns whether it was applied.
 */
export async function applyLineStatus(trx: Trx, customerId: string, friend: boolean, at: Date): Promise<boolean> {
	const updated = await trx
		.updateTable('customers')
		.set({
			line_friend: friend,
			line_blocked_at: friend ? null : at,
			line_status_changed_at: at,
			updated_at: sql<Date>`now()`
		})
		.where('id', '=', customerId)
		.where((eb) => eb.or([eb('line_status_changed_at', 'is', null), eb('line_status_changed_at', '<', at)]))
		.returning('id')
		.executeTakeFirst();
	return updated !== undefined;
}
