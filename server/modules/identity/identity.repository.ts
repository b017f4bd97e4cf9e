/**
 * SQL of the identity module. It owns identity_match_keys, identity_match_dirty,
 * merge_suggestions, customer_merges and identity_match_runs; it reads customers, orders,
 * attributions and tracked links (never writes them: moves go through the owners' services).
 */
import { sql } from 'kysely';
import type { MatchableRow } from '../customers/customers.service.ts';
import type { DbOrTrx, Trx } from '../../db/index.ts';
import type { EvidenceKind, MatchEvidence, MergeMoved, MergeProfileChanges, SuggestionStatus } from '../../db/types.ts';
import { textArray, uuidArray } from '../../db/pg-array.ts';
import { MAX_KEY_GROUP, type MatchKey } from './matcher.ts';

// ── blocking keys ───────────────────────────────────────────────────────────────────────────

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

export interface CandidateRow {
	self: string;
	other: string;
	kind: EvidenceKind;
	key: string;
	detail: string | null;
}

/**
 * The incremental matcher's one statement: replaces the profile keys (everything but `link`)
 * of the `live` customers with `keys` and drops every key of the `merged` ones (a merged-away
 * record matches nothing), and returns the records sharing a key with the live ones (keys held
 * by more than MAX_KEY_GROUP records are ignored) and their link purchases in either
 * direction; only records not merged away.
 *
 * All parts of one statement read the rows as they were before it, so the batch's own new keys
 * come from the parameters (`nk`) and the table gives the other records'. Each probe is an
 * index look-up on (kind, key), at most MAX_KEY_GROUP + 1 rows deep (a shop's phone held by
 * thousands costs no more than a private one); merged-away records are filtered by a scalar
 * look-up per row, so the plan does not depend on statistics.
 */
export async function replaceKeysAndFindCandidates(
	trx: DbOrTrx,
	live: string[],
	merged: string[],
	keys: Array<MatchKey & { customer_id: string }>
): Promise<CandidateRow[]> {
	if (live.length === 0 && merged.length === 0) return [];
	const liveIds = uuidArray(live);
	const { rows } = await sql<CandidateRow>`
		with nk as (
			select * from unnest(${uuidArray(keys.map((k) => k.customer_id))}::uuid[], ${textArray(keys.map((k) => k.kind))}::text[], ${textArray(keys.map((k) => k.key))}::text[]) as u(customer_id, kind, key)
		), gone as (
			delete from identity_match_keys k
			where (k.customer_id = any(${uuidArray(merged)}::uuid[])
				or (k.customer_id = any(${liveIds}::uuid[]) and k.kind <> 'link'
					and not exists (select 1 from nk where nk.customer_id = k.customer_id and nk.kind = k.kind and nk.key = k.key)))
		), added as (
			insert into identity_match_keys (customer_id, kind, key) select customer_id, kind, key from nk on conflict do nothing
		), holders as (
			select n.customer_id as self, o.customer_id as other, n.kind, n.key
			from nk n
			cross join lateral (
				select k.customer_id from identity_match_keys k
				where k.kind = n.kind and k.key = n.key and k.customer_id <> all(${liveIds}::uuid[])
				limit ${MAX_KEY_GROUP + 1}
			) o
			union all
			select a.customer_id, b.customer_id, a.kind, a.key from nk a join nk b on b.kind = a.kind and b.key = a.key and b.customer_id <> a.customer_id
		), sized as (
			select kind, key from (
				select kind, key, other from holders union select kind, key, self from holders
			) h group by kind, key having count(*) <= ${MAX_KEY_GROUP}
		), shared as (
			select h.self, h.other, h.kind, h.key, null::text as detail from holders h join sized z on z.kind = h.kind and z.key = h.key
		), links as (
			select customer_id as self, key::uuid as other, kind, key, detail from identity_match_keys where kind = 'link' and customer_id = any(${liveIds}::uuid[])
			union all
			select key::uuid as self, customer_id as other, kind, key, detail from identity_match_keys where kind = 'link' and key = any(${textArray(live)}::text[])
		)
		select c.self, c.other, c.kind, c.key, c.detail
		from (select * from shared union all select * from links) c
		where (select merged_into from customers x where x.id = c.self) is null
			and (select merged_into from customers x where x.id = c.other) is null`.execute(trx);
	return rows;
}

// ── full runs: the keys are built in a staging table and swapped in ─────────────────────────

/**
 * The full run's staging table (temporary: no WAL, no indexes, dropped at commit). Filling it
 * costs a fraction of inserting into identity_match_keys, whose two indexes and foreign key are
 * maintained row by row (16 s for 366,000 keys against 3 s staged and indexed once).
 */
export async function createStagedKeys(trx: Trx): Promise<void> {
	await sql`create temporary table identity_keys_next (customer_id uuid not null, kind text not null, key text not null, detail text) on commit drop`.execute(trx);
}

/**
 * The full run's session settings, for its transaction only: memory for grouping and sorting
 * millions of keys in one pass (3.6 million keys at 1,000,000 customers spilled to disk at the
 * default 4 MB), and no JIT (compiling each page's query cost more than it saved).
 */
export async function tuneFullRun(trx: Trx): Promise<void> {
	await sql`select set_config('work_mem', '256MB', true), set_config('maintenance_work_mem', '512MB', true), set_config('jit', 'off', true)`.execute(trx);
}

const PROFILE_KINDS = ['phone', 'email', 'line', 'name_birthday', 'address'] as const;

/**
 * Stages the keys of one page of customers (each customer's keys next to each other). Sent as
 * one row per customer, a column per kind (a customer's second phone or email goes in a short
 * list of extras): a uuid per key and the kind's name per key were most of what the server
 * parsed, and this insert was the largest part of the run.
 */
export async function stageProfileKeys(trx: Trx, keys: Array<MatchKey & { customer_id: string }>): Promise<void> {
	if (keys.length === 0) return;
	const ids: string[] = [];
	const columns: Record<(typeof PROFILE_KINDS)[number], Array<string | null>> = { phone: [], email: [], line: [], name_birthday: [], address: [] };
	const extra: Array<MatchKey & { customer_id: string }> = [];
	let last: string | null = null;
	for (const k of keys) {
		if (k.customer_id !== last) {
			last = k.customer_id;
			ids.push(last);
			for (const kind of PROFILE_KINDS) columns[kind].push(null);
		}
		const column = columns[k.kind];
		if (column[ids.length - 1] === null) column[ids.length - 1] = k.key;
		else extra.push(k);
	}
	await sql`
		insert into identity_keys_next (customer_id, kind, key)
		select u.id, v.kind, v.key
		from unnest(${uuidArray(ids)}::uuid[], ${textArray(columns.phone)}::text[], ${textArray(columns.email)}::text[], ${textArray(columns.line)}::text[],
			${textArray(columns.name_birthday)}::text[], ${textArray(columns.address)}::text[]) as u(id, phone, email, line, name_birthday, address)
		cross join lateral (values ('phone', u.phone), ('email', u.email), ('line', u.line), ('name_birthday', u.name_birthday), ('address', u.address)) as v(kind, key)
		where v.key is not null
		union all
		select * from unnest(${uuidArray(extra.map((k) => k.customer_id))}::uuid[], ${textArray(extra.map((k) => k.kind))}::text[], ${textArray(extra.map((k) => k.key))}::text[])`.execute(trx);
}

/** Every link purchase as a `link` key on the buyer (one statement, from the orders). */
export async function stageLinkKeys(trx: Trx): Promise<void> {
	await sql`
		insert into identity_keys_next (customer_id, kind, key, detail)
		select distinct on (o.customer_id, l.customer_id) o.customer_id, 'link', l.customer_id::text, l.code
		from attributions a
		join ec_orders o on o.platform = a.platform and o.ec_order_id = a.ec_order_id
		join tracked_links l on l.code = a.link_code
		join customers c on c.id = o.customer_id and c.merged_into is null
		where a.link_code is not null and o.customer_id is not null and l.customer_id is not null and l.customer_id <> o.customer_id
		order by o.customer_id, l.customer_id, l.code`.execute(trx);
}

/** Full run: every pair sharing a staged key (groups of 2..MAX_KEY_GROUP), and every link pair. */
export async function stagedCandidatePairs(trx: Trx): Promise<CandidateRow[]> {
	const { rows } = await sql<CandidateRow>`
		with groups as (
			select kind, key from identity_keys_next where kind <> 'link' group by kind, key having count(*) between 2 and ${MAX_KEY_GROUP}
		), grouped as (
			select k.customer_id, k.kind, k.key from identity_keys_next k join groups g on g.kind = k.kind and g.key = k.key
		)
		select a.customer_id as self, b.customer_id as other, a.kind, a.key, null::text as detail
		from grouped a join grouped b on b.kind = a.kind and b.key = a.key and b.customer_id > a.customer_id
		union all
		select k.customer_id, k.key::uuid, k.kind, k.key, k.detail from identity_keys_next k
		join customers o on o.id = k.key::uuid and o.merged_into is null
		where k.kind = 'link'`.execute(trx);
	return rows;
}

/**
 * identity_match_keys becomes the staged keys. When most keys are new (the first run, or after
 * an import), the table is emptied and loaded without its indexes and foreign key, which are
 * built once afterwards; otherwise (the daily run) only the differences are written, so the
 * incremental matcher is not held up. Either way in the caller's transaction.
 */
export async function applyStagedKeys(trx: Trx): Promise<{ bulk: boolean }> {
	const { rows } = await sql<{ staged: number; current: number }>`
		select (select count(*) from identity_keys_next)::int as staged, (select count(*) from identity_match_keys)::int as current`.execute(trx);
	const { staged, current } = rows[0];
	if (current < staged / 2) {
		await sql`lock table identity_match_keys in access exclusive mode`.execute(trx);
		await sql`truncate identity_match_keys`.execute(trx);
		await sql`alter table identity_match_keys drop constraint identity_match_keys_pkey, drop constraint identity_match_keys_customer_id_fkey`.execute(trx);
		await sql`drop index identity_match_keys_key_idx`.execute(trx);
		await sql`insert into identity_match_keys (customer_id, kind, key, detail) select customer_id, kind, key, detail from identity_keys_next`.execute(trx);
		await sql`alter table identity_match_keys add constraint identity_match_keys_pkey primary key (customer_id, kind, key)`.execute(trx);
		await sql`create index identity_match_keys_key_idx on identity_match_keys (kind, key)`.execute(trx);
		// every key's customer was read from customers in this transaction: valid by construction
		await sql`alter table identity_match_keys add constraint identity_match_keys_customer_id_fkey foreign key (customer_id) references customers(id) on delete cascade not valid`.execute(trx);
		await sql`analyze identity_match_keys`.execute(trx);
		return { bulk: true };
	}
	await sql`
		delete from identity_match_keys k where not exists (
			select 1 from identity_keys_next n where n.customer_id = k.customer_id and n.kind = k.kind and n.key = k.key)`.execute(trx);
	await sql`
		insert into identity_match_keys (customer_id, kind, key, detail)
		select customer_id, kind, key, detail from identity_keys_next n where not exists (
			select 1 from identity_match_keys k where k.customer_id = n.customer_id and k.kind = n.kind and k.key = n.key)
		on conflict do nothing`.execute(trx);
	return { bulk: false };
}

/**
 * Up to `limit` customers' matchable fields after `after`, in id order (the full run's keyset
 * pages; records merged away are skipped, their keys are not staged).
 */
export async function matchableCustomersAfter(trx: DbOrTrx, after: string | null, limit: number) {
	const { rows } = await sql<MatchableRow>`
		select ${MATCHABLE_COLUMNS} from customers c
		where c.merged_into is null ${after ? sql`and c.id > ${after}::uuid` : sql``}
		order by c.id limit ${limit}`.execute(trx);
	return rows;
}

/** The matcher's view of a customer: the customers module defines it (it owns the columns). */
export type { MatchableRow };

const MATCHABLE_COLUMNS = sql`c.id, c.merged_into, c.family_name, c.given_name, c.family_kana, c.given_kana, to_char(c.birthday, 'YYYY-MM-DD') as birthday,
	c.email, c.phone, c.line_user_id, c.postcode, c.address,
	(select json_agg(json_build_object('kind', i.kind, 'value', i.value)) from customer_identities i
		where i.customer_id = c.id and i.kind in ('email', 'phone', 'line')) as identities`;

/**
 * Takes up to `limit` dirty customers (other processes skip the rows this one holds) and
 * returns their matchable fields, in one statement. Takes nothing while a full run is
 * rewriting the keys (keysLock): the markers wait for it.
 *
 * Markers are read through their index: after a full run has deleted a million of them, a
 * sequential scan walked every dead page (45 ms a batch until vacuum), while the index skips
 * dead entries once one scan has marked them.
 *
 * The transaction commits without waiting for the WAL flush (the commit was half of a match's
 * time on a busy disk): it writes derived rows only, and a crash loses it whole, markers
 * included, so those customers are matched again.
 */
export async function claimDirtyMatchable(trx: Trx, limit: number): Promise<MatchableRow[]> {
	const { rows } = await sql<MatchableRow>`
		with claimed as (
			delete from identity_match_dirty where ctid = any(array(
				select ctid from identity_match_dirty where (select ${keysLock('try-shared')}) order by customer_id limit ${limit} for update skip locked
			)) returning customer_id
		), async_commit as (
			select set_config('synchronous_commit', 'off', true)
		)
		select ${MATCHABLE_COLUMNS} from customers c where c.id in (select customer_id from claimed) and exists (select 1 from async_commit)`.execute(trx);
	return rows;
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

/**
 * After a full run: the markers it deleted (a whole import's worth) are cleared from the table
 * and its index at once. Until then every claim walked them: 26 ms a match at 1,000,000
 * customers instead of a few. Outside any transaction.
 */
export async function vacuumDirty(db: DbOrTrx): Promise<void> {
	await sql`vacuum identity_match_dirty`.execute(db);
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

/** One full run at a time across processes (a try lock held until the caller's transaction ends). */
export async function tryRunLock(trx: Trx): Promise<boolean> {
	const { rows } = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(hashtext('identity_full_match')) as ok`.execute(trx);
	return rows[0].ok;
}

/**
 * Who may write identity_match_keys: incremental matches share it (the worker tries, and when
 * it is not free leaves the markers for later; the orders hook waits), a full run holds it alone from start to commit (waiting
 * for the batches in flight), so a key written during the run is never overwritten by the
 * run's older reading, and every marker written meanwhile is matched after it.
 */
function keysLock(mode: 'try-shared' | 'shared' | 'exclusive') {
	if (mode === 'try-shared') return sql`pg_try_advisory_xact_lock_shared(hashtext('identity_keys'))`;
	return mode === 'shared' ? sql`pg_advisory_xact_lock_shared(hashtext('identity_keys'))` : sql`pg_advisory_xact_lock(hashtext('identity_keys'))`;
}

export async function takeKeysLockShared(trx: Trx): Promise<void> {
	await sql`select ${keysLock('shared')}`.execute(trx);
}

export async function takeKeysLock(trx: Trx): Promise<void> {
	await sql`select ${keysLock('exclusive')}`.execute(trx);
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
