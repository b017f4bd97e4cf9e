/**
 * SQL of the identity module. It owns identity_match_keys, identity_match_dirty,
 * merge_suggestions, customer_merges and identity_match_runs; it reads customers, orders,
 * attributions and tracked links (never writes them: moves go through the owners' services).
 */
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../../db/index.ts';
import type { EvidenceKind, MatchEvidence, MergeMoved, MergeProfileChanges, SuggestionStatus } from '../../db/types.ts';
import { textArray, uuidArray } from '../../db/pg-array.ts';
import { MAX_KEY_GROUP, type MatchKey } from './matcher.ts';

// ── blocking keys ───────────────────────────────────────────────────────────────────────────

/** Replaces the profile keys (everything but `link`) of these customers with `keys`. */
export async function replaceProfileKeys(trx: DbOrTrx, customerIds: string[], keys: Array<MatchKey & { customer_id: string }>): Promise<void> {
	if (customerIds.length === 0) return;
	await sql`delete from identity_match_keys where customer_id = any(${uuidArray(customerIds)}::uuid[]) and kind <> 'link'`.execute(trx);
	if (keys.length === 0) return;
	await sql`
		insert into identity_match_keys (customer_id, kind, key)
		select * from unnest(${uuidArray(keys.map((k) => k.customer_id))}::uuid[], ${textArray(keys.map((k) => k.kind))}::text[], ${textArray(keys.map((k) => k.key))}::text[])
		on conflict do nothing`.execute(trx);
}

/** Full run: every profile key goes (link keys are rebuilt separately). */
export async function deleteAllProfileKeys(trx: DbOrTrx): Promise<void> {
	await sql`delete from identity_match_keys where kind <> 'link'`.execute(trx);
}

/** Full run: keys of customers that have none (after deleteAllProfileKeys); no conflict handling. */
export async function insertProfileKeys(trx: DbOrTrx, keys: Array<MatchKey & { customer_id: string }>): Promise<void> {
	if (keys.length === 0) return;
	await sql`
		insert into identity_match_keys (customer_id, kind, key)
		select * from unnest(${uuidArray(keys.map((k) => k.customer_id))}::uuid[], ${textArray(keys.map((k) => k.kind))}::text[], ${textArray(keys.map((k) => k.key))}::text[])`.execute(trx);
}

/** Every key of these customers (a merged-away record matches nothing). */
export async function deleteAllKeys(trx: DbOrTrx, customerIds: string[]): Promise<void> {
	if (customerIds.length === 0) return;
	await sql`delete from identity_match_keys where customer_id = any(${uuidArray(customerIds)}::uuid[])`.execute(trx);
}

/** `buyer` bought through link `code`, sent to `recipient`: a `link` key on the buyer. */
export async function insertLinkKeys(trx: DbOrTrx, rows: Array<{ buyer: string; recipient: string; code: string }>): Promise<void> {
	if (rows.length === 0) return;
	await sql`
		insert into identity_match_keys (customer_id, kind, key, detail)
		select b, 'link', r::text, c from unnest(${uuidArray(rows.map((r) => r.buyer))}::uuid[], ${uuidArray(rows.map((r) => r.recipient))}::uuid[], ${textArray(rows.map((r) => r.code))}::text[]) as u(b, r, c)
		on conflict do nothing`.execute(trx);
}

/**
 * Orders of these EC orders placed through a tracked link that names a customer other than the
 * order's own (the order's customer bought through a link sent to someone else).
 */
export async function linkPurchases(db: DbOrTrx, orders: Array<{ platform: string; ecOrderId: string }>): Promise<Array<{ buyer: string; recipient: string; code: string }>> {
	if (orders.length === 0) return [];
	const { rows } = await sql<{ buyer: string; recipient: string; code: string }>`
		select distinct o.customer_id as buyer, l.customer_id as recipient, l.code
		from unnest(${textArray(orders.map((o) => o.platform))}::text[], ${textArray(orders.map((o) => o.ecOrderId))}::text[]) as u(platform, ec_order_id)
		join ec_orders o on o.platform = u.platform and o.ec_order_id = u.ec_order_id
		join attributions a on a.platform = o.platform and a.ec_order_id = o.ec_order_id
		join tracked_links l on l.code = a.link_code
		where o.customer_id is not null and l.customer_id is not null and l.customer_id <> o.customer_id`.execute(db);
	return rows;
}

/** Every link purchase (the full run rebuilds `link` keys from the rows). */
export async function allLinkPurchases(db: DbOrTrx): Promise<Array<{ buyer: string; recipient: string; code: string }>> {
	const { rows } = await sql<{ buyer: string; recipient: string; code: string }>`
		select distinct o.customer_id as buyer, l.customer_id as recipient, l.code
		from attributions a
		join ec_orders o on o.platform = a.platform and o.ec_order_id = a.ec_order_id
		join tracked_links l on l.code = a.link_code
		where a.link_code is not null and o.customer_id is not null and l.customer_id is not null and l.customer_id <> o.customer_id`.execute(db);
	return rows;
}

export interface CandidateRow {
	self: string;
	other: string;
	kind: EvidenceKind;
	key: string;
	detail: string | null;
}

/**
 * The records sharing a key with these customers (keys held by more than MAX_KEY_GROUP records
 * are ignored), and link purchases in either direction; only records not merged away. Each
 * probe is an index look-up on (kind, key).
 */
export async function candidatesOf(db: DbOrTrx, customerIds: string[]): Promise<CandidateRow[]> {
	if (customerIds.length === 0) return [];
	const ids = uuidArray(customerIds);
	const { rows } = await sql<CandidateRow>`
		with mine as (
			select customer_id, kind, key from identity_match_keys where customer_id = any(${ids}::uuid[]) and kind <> 'link'
		), shared as (
			select m.customer_id as self, k.customer_id as other, m.kind, m.key, null::text as detail
			from mine m
			join identity_match_keys k on k.kind = m.kind and k.key = m.key and k.customer_id <> m.customer_id
			where (select count(*) from (select 1 from identity_match_keys g where g.kind = m.kind and g.key = m.key limit ${MAX_KEY_GROUP + 1}) x) <= ${MAX_KEY_GROUP}
		), links as (
			select customer_id as self, key::uuid as other, kind, key, detail from identity_match_keys where kind = 'link' and customer_id = any(${ids}::uuid[])
			union all
			select key::uuid as self, customer_id as other, kind, key, detail from identity_match_keys where kind = 'link' and key = any(${textArray(customerIds)}::text[])
		)
		select c.self, c.other, c.kind, c.key, c.detail
		from (select * from shared union all select * from links) c
		join customers s on s.id = c.self and s.merged_into is null
		join customers o on o.id = c.other and o.merged_into is null`.execute(db);
	return rows;
}

/** Full run: every pair sharing a key (groups of 2..MAX_KEY_GROUP), and every link pair. */
export async function allCandidatePairs(db: DbOrTrx): Promise<CandidateRow[]> {
	const { rows } = await sql<CandidateRow>`
		with groups as (
			select kind, key from identity_match_keys where kind <> 'link' group by kind, key having count(*) between 2 and ${MAX_KEY_GROUP}
		)
		select a.customer_id as self, b.customer_id as other, a.kind, a.key, null::text as detail
		from groups g
		join identity_match_keys a on a.kind = g.kind and a.key = g.key
		join identity_match_keys b on b.kind = g.kind and b.key = g.key and b.customer_id > a.customer_id
		union all
		select k.customer_id, k.key::uuid, k.kind, k.key, k.detail from identity_match_keys k
		join customers o on o.id = k.key::uuid and o.merged_into is null
		where k.kind = 'link'`.execute(db);
	return rows;
}

// ── dirty customers ─────────────────────────────────────────────────────────────────────────

/** Takes up to `limit` dirty customers (other processes skip the rows this one holds). */
export async function claimDirty(trx: Trx, limit: number): Promise<string[]> {
	const { rows } = await sql<{ customer_id: string }>`
		delete from identity_match_dirty where ctid = any(array(
			select ctid from identity_match_dirty limit ${limit} for update skip locked
		)) returning customer_id`.execute(trx);
	return [...new Set(rows.map((r) => r.customer_id))];
}

/** Takes the markers of these customers (matched now, in the caller's transaction). */
export async function takeDirty(trx: DbOrTrx, customerIds: string[]): Promise<string[]> {
	if (customerIds.length === 0) return [];
	const { rows } = await sql<{ customer_id: string }>`
		delete from identity_match_dirty where customer_id = any(${uuidArray(customerIds)}::uuid[]) returning customer_id`.execute(trx);
	return [...new Set(rows.map((r) => r.customer_id))];
}

export async function markDirty(trx: DbOrTrx, customerIds: string[]): Promise<void> {
	if (customerIds.length === 0) return;
	await sql`insert into identity_match_dirty (customer_id) select unnest(${uuidArray(customerIds)}::uuid[])`.execute(trx);
}

export async function clearAllDirty(trx: DbOrTrx): Promise<void> {
	await sql`delete from identity_match_dirty`.execute(trx);
}

export async function hasDirty(db: DbOrTrx): Promise<boolean> {
	const { rows } = await sql<{ x: number }>`select 1 as x from identity_match_dirty limit 1`.execute(db);
	return rows.length > 0;
}

// ── suggestions ─────────────────────────────────────────────────────────────────────────────

export interface SuggestionUpsert {
	a: string;
	b: string;
	score: number;
	evidence: MatchEvidence[];
}

/**
 * New pairs are inserted open; open and later pairs get the new score and evidence; decided
 * pairs (merged, rejected = not the same person) are left alone, so they are never suggested
 * again. Returns the open / later rows touched.
 */
export async function upsertSuggestions(trx: DbOrTrx, rows: SuggestionUpsert[]): Promise<Array<{ id: string; inserted: boolean }>> {
	if (rows.length === 0) return [];
	const { rows: out } = await sql<{ id: string; inserted: boolean }>`
		insert into merge_suggestions (customer_a, customer_b, score, evidence)
		select a, b, s, e from unnest(${uuidArray(rows.map((r) => r.a))}::uuid[], ${uuidArray(rows.map((r) => r.b))}::uuid[],
			${textArray(rows.map((r) => String(r.score)))}::int[], ${textArray(rows.map((r) => JSON.stringify(r.evidence)))}::jsonb[]) as u(a, b, s, e)
		on conflict (customer_a, customer_b) do update set score = excluded.score, evidence = excluded.evidence, updated_at = now()
			where merge_suggestions.status in ('open', 'later')
				and (merge_suggestions.score <> excluded.score or merge_suggestions.evidence <> excluded.evidence)
		returning id, (xmax = 0) as inserted`.execute(trx);
	return out;
}

/** Open / later suggestions of a record whose evidence is gone (it was merged away). */
export async function dropOpenSuggestionsOf(trx: DbOrTrx, customerId: string, except: string | null): Promise<void> {
	await trx
		.deleteFrom('merge_suggestions')
		.where((eb) => eb.or([eb('customer_a', '=', customerId), eb('customer_b', '=', customerId)]))
		.where('status', 'in', ['open', 'later'])
		.$if(except !== null, (q) => q.where('id', '<>', except!))
		.execute();
}

export async function findSuggestion(db: DbOrTrx, id: string, options: { lock?: boolean } = {}) {
	return db
		.selectFrom('merge_suggestions')
		.selectAll()
		.where('id', '=', id)
		.$if(Boolean(options.lock), (q) => q.forUpdate())
		.executeTakeFirst();
}

export async function findSuggestionOfPair(db: DbOrTrx, a: string, b: string) {
	return db.selectFrom('merge_suggestions').selectAll().where('customer_a', '=', a).where('customer_b', '=', b).executeTakeFirst();
}

export async function setSuggestionStatus(trx: DbOrTrx, id: string, status: SuggestionStatus, by: string | null): Promise<void> {
	await trx
		.updateTable('merge_suggestions')
		.set({ status, decided_by: by, decided_at: new Date(), updated_at: new Date() })
		.where('id', '=', id)
		.execute();
}

export async function confirmSuggestion(trx: DbOrTrx, id: string, staffId: string): Promise<void> {
	await trx
		.updateTable('merge_suggestions')
		.set({ staff_confirmed_by: staffId, staff_confirmed_at: new Date(), status: 'open', updated_at: new Date() })
		.where('id', '=', id)
		.execute();
}

/** One record of a pair, as the queue shows it side by side. */
export interface CustomerSide {
	id: string;
	memberNo: string;
	familyName: string | null;
	givenName: string | null;
	familyKana: string | null;
	givenKana: string | null;
	birthday: string | null;
	email: string | null;
	phone: string | null;
	postcode: string | null;
	address: string | null;
	homeStoreId: string | null;
	lineLinked: boolean;
	createdAt: string;
	mergedInto: string | null;
	storePurchases: number;
	ecOrders: number;
	consultations: number;
}

const CUSTOMER_SIDE = (alias: string) => sql`json_build_object(
	'id', ${sql.ref(`${alias}.id`)}, 'memberNo', ${sql.ref(`${alias}.member_no`)},
	'familyName', ${sql.ref(`${alias}.family_name`)}, 'givenName', ${sql.ref(`${alias}.given_name`)},
	'familyKana', ${sql.ref(`${alias}.family_kana`)}, 'givenKana', ${sql.ref(`${alias}.given_kana`)},
	'birthday', to_char(${sql.ref(`${alias}.birthday`)}, 'YYYY-MM-DD'), 'email', ${sql.ref(`${alias}.email`)}, 'phone', ${sql.ref(`${alias}.phone`)},
	'postcode', ${sql.ref(`${alias}.postcode`)}, 'address', ${sql.ref(`${alias}.address`)},
	'homeStoreId', ${sql.ref(`${alias}.home_store_id`)}, 'lineLinked', ${sql.ref(`${alias}.line_user_id`)} is not null,
	'createdAt', ${sql.ref(`${alias}.created_at`)}, 'mergedInto', ${sql.ref(`${alias}.merged_into`)},
	'storePurchases', (select count(*) from store_purchases xp where xp.customer_id = ${sql.ref(`${alias}.id`)}),
	'ecOrders', (select count(*) from ec_orders xo where xo.customer_id = ${sql.ref(`${alias}.id`)}),
	'consultations', (select count(*) from consultations xk where xk.customer_id = ${sql.ref(`${alias}.id`)})
)`;

export interface SuggestionRow {
	id: string;
	score: number;
	evidence: MatchEvidence[];
	status: SuggestionStatus;
	created_at: Date;
	staff_confirmed_at: Date | null;
	staff_confirmed_by_name: string | null;
	a: CustomerSide;
	b: CustomerSide;
}

/** The queue: open (and later) suggestions, strongest first, with both records side by side. */
export async function listSuggestions(db: DbOrTrx, statuses: SuggestionStatus[], limit: number, storeId?: string): Promise<SuggestionRow[]> {
	const { rows } = await sql<SuggestionRow>`
		select s.id, s.score, s.evidence, s.status, s.created_at, s.staff_confirmed_at, st.display_name as staff_confirmed_by_name,
			${CUSTOMER_SIDE('a')} as a, ${CUSTOMER_SIDE('b')} as b
		from merge_suggestions s
		join customers a on a.id = s.customer_a
		join customers b on b.id = s.customer_b
		left join staff st on st.id = s.staff_confirmed_by
		where s.status = any(${textArray(statuses)}::text[])
			${storeId ? sql`and (a.home_store_id = ${storeId} or b.home_store_id = ${storeId} or (a.home_store_id is null and b.home_store_id is null))` : sql``}
		order by (s.staff_confirmed_at is not null) desc, s.score desc, s.created_at
		limit ${limit}`.execute(db);
	return rows;
}

/** Open suggestions of one customer, with the other record's name and member number. */
export async function openSuggestionsOf(db: DbOrTrx, customerId: string) {
	const { rows } = await sql<{ id: string; score: number; evidence: MatchEvidence[]; other: CustomerSide; staff_confirmed_at: Date | null }>`
		select s.id, s.score, s.evidence, s.staff_confirmed_at, ${CUSTOMER_SIDE('o')} as other
		from merge_suggestions s
		join customers o on o.id = case when s.customer_a = ${customerId}::uuid then s.customer_b else s.customer_a end
		where (s.customer_a = ${customerId}::uuid or s.customer_b = ${customerId}::uuid) and s.status in ('open', 'later')
		order by s.score desc`.execute(db);
	return rows;
}

/** Open suggestions that may qualify for an automatic merge (the caller applies the policy). */
export async function autoMergeCandidates(db: DbOrTrx, minScore: number | null, verifiedKinds: readonly string[], limit: number) {
	const { rows } = await sql<{ id: string; customer_a: string; customer_b: string; score: number; evidence: MatchEvidence[] }>`
		select id, customer_a, customer_b, score, evidence from merge_suggestions
		where status = 'open' and (
			${minScore === null ? sql`false` : sql`score >= ${minScore}`}
			or exists (select 1 from jsonb_array_elements(evidence) e where e->>'kind' = any(${textArray([...verifiedKinds])}::text[]))
		)
		order by created_at limit ${limit}`.execute(db);
	return rows;
}

// ── the merge ledger ────────────────────────────────────────────────────────────────────────

export async function insertMerge(
	trx: DbOrTrx,
	values: {
		survivor_id: string;
		merged_id: string;
		suggestion_id: string | null;
		score: number | null;
		evidence: MatchEvidence[];
		automatic: boolean;
		merged_by: string | null;
		merged_at: Date;
		moved: MergeMoved;
		profile_changes: MergeProfileChanges;
	}
): Promise<string> {
	const row = await trx
		.insertInto('customer_merges')
		.values({ ...values, evidence: JSON.stringify(values.evidence), moved: JSON.stringify(values.moved), profile_changes: JSON.stringify(values.profile_changes) })
		.returning('id')
		.executeTakeFirstOrThrow();
	return row.id;
}

export async function findMerge(db: DbOrTrx, id: string, options: { lock?: boolean } = {}) {
	return db
		.selectFrom('customer_merges')
		.selectAll()
		.where('id', '=', id)
		.$if(Boolean(options.lock), (q) => q.forUpdate())
		.executeTakeFirst();
}

export async function markMergeUndone(trx: DbOrTrx, id: string, by: string, at: Date): Promise<void> {
	await trx.updateTable('customer_merges').set({ undone_at: at, undone_by: by }).where('id', '=', id).execute();
}

/** The ledger, newest first, with both member numbers and names. */
export async function listMerges(db: DbOrTrx, limit: number) {
	const { rows } = await sql<{
		id: string;
		survivor_id: string;
		merged_id: string;
		survivor_member_no: string;
		merged_member_no: string;
		survivor_name: string;
		merged_name: string;
		score: number | null;
		evidence: MatchEvidence[];
		automatic: boolean;
		merged_by_name: string | null;
		merged_at: Date;
		moved: MergeMoved;
		undone_at: Date | null;
	}>`
		select m.id, m.survivor_id, m.merged_id, s.member_no as survivor_member_no, x.member_no as merged_member_no,
			concat_ws(' ', s.family_name, s.given_name) as survivor_name, concat_ws(' ', x.family_name, x.given_name) as merged_name,
			m.score, m.evidence, m.automatic, st.display_name as merged_by_name, m.merged_at, m.moved, m.undone_at
		from customer_merges m
		join customers s on s.id = m.survivor_id
		join customers x on x.id = m.merged_id
		left join staff st on st.id = m.merged_by
		order by m.merged_at desc limit ${limit}`.execute(db);
	return rows;
}

// ── full runs ───────────────────────────────────────────────────────────────────────────────

export async function lastFinishedRun(db: DbOrTrx): Promise<Date | null> {
	const row = await db.selectFrom('identity_match_runs').select('finished_at').where('finished_at', 'is not', null).orderBy('finished_at', 'desc').limit(1).executeTakeFirst();
	return row?.finished_at ?? null;
}

export async function recordRun(db: DbOrTrx, startedAt: Date, counts: { customers: number; pairs: number; suggestions: number }): Promise<void> {
	await db.insertInto('identity_match_runs').values({ started_at: startedAt, finished_at: new Date(), ...counts }).execute();
}

/** One full run at a time across processes (session-level try lock on the caller's connection). */
export async function tryRunLock(trx: Trx): Promise<boolean> {
	const { rows } = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(hashtext('identity_full_match')) as ok`.execute(trx);
	return rows[0].ok;
}

export async function deleteLinkKeys(trx: DbOrTrx): Promise<void> {
	await sql`delete from identity_match_keys where kind = 'link'`.execute(trx);
}

/** Keys of records merged away (the full run's clean-up). */
export async function deleteMergedKeys(trx: DbOrTrx): Promise<void> {
	await sql`delete from identity_match_keys k using customers c where c.id = k.customer_id and c.merged_into is not null`.execute(trx);
}

/** When the records of a pair were created (the older one survives an automatic merge). */
export async function pairAges(db: DbOrTrx, ids: string[]) {
	return db.selectFrom('customers').select(['id', 'created_at', 'member_no']).where('id', 'in', ids).execute();
}

/**
 * Erasure (issue 16 §3): the person's match keys (normalised phone, email, name + birthday,
 * address) go; suggestions that name them keep no evidence and are never offered again; merges
 * keep their moved row ids (sales stay on the anonymous record) but not the old field values.
 */
export async function eraseIdentityDataOf(trx: Trx, customerId: string): Promise<void> {
	await trx.deleteFrom('identity_match_keys').where('customer_id', '=', customerId).execute();
	await trx.deleteFrom('identity_match_dirty').where('customer_id', '=', customerId).execute();
	await sql`
		update merge_suggestions set evidence = '[]'::jsonb, updated_at = now(),
			status = case when status in ('open', 'later') then 'rejected' else status end
		where customer_a = ${customerId} or customer_b = ${customerId}`.execute(trx);
	await sql`
		update customer_merges set evidence = '[]'::jsonb,
			profile_changes = '{"survivor": {}, "merged": {}, "forwarded": []}'::jsonb
		where survivor_id = ${customerId} or merged_id = ${customerId}`.execute(trx);
}
