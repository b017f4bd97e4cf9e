/**
 * Demo history of today's list: the lists are built as they would have been on a few past days
 * (by the worklist module's own builder), some of those items were done — by a follow-up sent
 * from the list, a consultation or by hand — snoozed or dismissed; then today's lists are built.
 * Demo only; like the rest of the seed it writes rows directly (the follow-ups that completed
 * items are real follow-up rows, so the outcomes page measures them like any other).
 */
import { sql } from 'kysely';
import type { Db } from '../db/index.ts';
import { addDays, jstMidnight } from '../shared/jst.ts';
import { buildStores } from '../modules/worklist/worklist.service.ts';
import { allStoreIds } from '../modules/worklist/worklist.repository.ts';
import { buildLineMessages, checkSender } from '../integrations/line/flex.ts';
import { renderTemplate } from '../modules/followups/messages.ts';
import { WORKLIST_TEMPLATES, MESSAGE_TEMPLATES } from './generate.ts';
import { Rng } from './random.ts';
import { createCampaign } from '../modules/worklist/campaigns.service.ts';
import { FEATURED_MEMBERS } from './fixtures.ts';
import { ELIGIBLE_SQL } from '../modules/worklist/rules.ts';

const HOUR = 3_600_000;
const PAST_DAYS = [14, 7, 3, 1];
const TEMPLATE_OF: Record<string, string> = {
	next_action: 'restock', birthday: 'birthday', second_purchase: 'second_purchase', thank_you: 'thanks',
	dormancy_risk: 'welcome_back', cross_channel: 'store_invite', campaign: 'new_arrivals'
};

export async function seedWorklistDemo(db: Db, anchorDate: string, seed: number, dormantDays: number): Promise<{ items: number }> {
	const rng = new Rng(seed ^ 0x11d0);
	const stores = await allStoreIds(db);
	const templates = new Map([...MESSAGE_TEMPLATES, ...WORKLIST_TEMPLATES].map((t) => [t.key, t.body]));
	await demoNextActions(db, rng, anchorDate);
	await demoCampaigns(db, anchorDate, dormantDays);
	for (const back of PAST_DAYS) {
		const day = addDays(anchorDate, -back);
		const since = new Date();
		await buildStores(db, stores, day, { dormantDays });
		// the items of that day's build were created that morning
		const morning = new Date(jstMidnight(day)!.getTime() + 9 * HOUR);
		const built = await sql<{ id: string }>`update worklist_items set created_at = ${morning} where created_at >= ${since} returning id`.execute(db);
		await sql`update worklist_builds set built_on = ${day}::date, built_at = ${morning}`.execute(db);
		await decide(db, rng, day, anchorDate, templates, built.rows.map((r) => r.id), back === 7);
	}
	await buildStores(db, stores, anchorDate, { dormantDays });
	const n = await sql<{ n: number }>`select count(*)::int as n from worklist_items`.execute(db);
	return { items: n.rows[0].n };
}

interface OpenRow {
	id: string;
	customer_id: string;
	staff_id: string | null;
	store_id: string;
	reason: string;
	family_name: string | null;
	given_name: string | null;
	member_no: string;
}

const FEATURED = new Set(FEATURED_MEMBERS.map((m) => m.member_no));

/** What happened to the open items of a past day: most done, some snoozed or dismissed, the rest left open. */
async function decide(db: Db, rng: Rng, day: string, anchorDate: string, templates: Map<string, string>, builtIds: string[], withCampaigns: boolean): Promise<void> {
	const open = await sql<OpenRow>`
		select w.id, w.customer_id, w.staff_id, w.store_id, w.reason, c.family_name, c.given_name, c.member_no
		from worklist_items w join customers c on c.id = w.customer_id
		where w.state = 'open' and w.visible_from <= ${day}::date
			and (w.id = any(${builtIds}::uuid[]) or (${withCampaigns} and w.reason = 'campaign'))
		order by w.customer_id, w.reason, w.occasion`.execute(db);
	const staff = await sql<{ id: string; store: string; display_name: string; sender_name: string; sender_icon_url: string | null; store_name: string }>`
		select s.id, s.home_store_id as store, s.display_name, s.sender_name, s.sender_icon_url, st.name as store_name
		from staff s join stores st on st.id = s.home_store_id where s.active and s.role <> 'admin' order by s.staff_code`.execute(db);
	const byStore = new Map<string, typeof staff.rows>();
	for (const s of staff.rows) byStore.set(s.store, [...(byStore.get(s.store) ?? []), s]);
	const dayStart = jstMidnight(day)!.getTime();
	const changes: Array<{ id: string; state: string; done_by: string | null; at: string; via: string | null; source: string | null; dismiss: string | null; until: string | null; who: string }> = [];
	const followUps: Array<Record<string, unknown>> = [];
	for (const item of open.rows) {
		const roll = rng.next();
		if (roll >= 0.6) continue; // left open: overdue today, or expired
		const who = item.staff_id ? staff.rows.find((s) => s.id === item.staff_id) : rng.pick(byStore.get(item.store_id) ?? []);
		if (!who) continue;
		// that day or the next (never later than yesterday: the demo has no future rows)
		const nextDay = rng.chance(0.3) && day < addDays(anchorDate, -1) ? 86_400_000 : 0;
		const at = new Date(dayStart + rng.int(10, 19) * HOUR + rng.int(0, 59) * 60_000 + nextDay);
		const base = { id: item.id, at: at.toISOString(), who: who.id, done_by: null, via: null, source: null, dismiss: null, until: null };
		if (roll < 0.45) {
			// done from the list: mostly by the prefilled follow-up
			// the featured members' timelines and chats stay as the e2e tests know them
			const viaFollowUp = rng.chance(0.7) && !FEATURED.has(item.member_no);
			let source: string | null = null;
			if (viaFollowUp) {
				const key = TEMPLATE_OF[item.reason];
				const text = renderTemplate(templates.get(key) ?? templates.get('new_arrivals')!, {
					customerName: `${item.family_name ?? ''} ${item.given_name ?? ''}`.trim(), staffName: who.display_name, storeName: who.store_name
				});
				const sender = checkSender(who.sender_name, who.sender_icon_url).sender!;
				source = rng.uuid();
				followUps.push({
					id: source, retry_key: rng.uuid(), customer_id: item.customer_id, staff_id: who.id, store_id: who.store, template_key: key, body: text,
					messages: JSON.stringify(buildLineMessages(text, sender, [])), status: 'sent', attempts: 1, next_attempt_at: at, created_at: at,
					sent_at: new Date(at.getTime() + 20_000)
				});
			}
			changes.push({ ...base, state: 'done', done_by: who.id, via: viaFollowUp ? 'followup' : 'manual', source });
		} else if (roll < 0.53) {
			changes.push({ ...base, state: 'dismissed', dismiss: rng.pick(['not_relevant', 'contacted_elsewhere', 'customer_request', 'no_stock']) });
		} else {
			changes.push({ ...base, state: 'snoozed', until: addDays(anchorDate, rng.int(-1, 5)) });
		}
	}
	for (let i = 0; i < followUps.length; i += 200) await db.insertInto('follow_ups').values(followUps.slice(i, i + 200) as never).execute();
	if (changes.length === 0) return;
	await sql`
		update worklist_items w set state = x.state, done_by = x.done_by, done_at = case when x.state = 'done' then x.at end, done_via = x.via,
			done_source_id = x.source, dismiss_reason = x.dismiss, snoozed_until = x.until, state_changed_by = x.who, state_changed_at = x.at
		from jsonb_to_recordset(${JSON.stringify(changes)}::jsonb)
			as x(id uuid, state text, done_by uuid, at timestamptz, via text, source text, dismiss text, until date, who uuid)
		where w.id = x.id`.execute(db);
}

const DEMO_ACTIONS = ['入荷連絡', 'サイズ交換の確認', '取り置き期限のご連絡', 'お直し完了の連絡', 'コーディネート提案を送る', '新色入荷のご案内'];

/** A few next actions per staff member (consultations written as the tablet would), some already overdue. */
async function demoNextActions(db: Db, rng: Rng, anchorDate: string): Promise<void> {
	const staff = await sql<{ id: string; store: string }>`
		select id, home_store_id as store from staff where active and role <> 'admin' order by staff_code`.execute(db);
	const featured = FEATURED_MEMBERS.map((m) => m.member_no);
	for (const s of staff.rows) {
		const customers = await sql<{ id: string }>`
			select c.id from customers c where c.home_store_id = ${s.store} and ${sql.raw(ELIGIBLE_SQL)}
				and not (c.member_no = any(${featured}::text[])) order by c.member_no`.execute(db);
		// enough that, after the past days' decisions, every list still shows 10–30 items
		const count = rng.int(12, 16);
		const rows: Array<Record<string, unknown>> = [];
		for (let i = 0; i < count && customers.rows.length > 0; i++) {
			const due = addDays(anchorDate, rng.int(-12, 3));
			const occurred = new Date(jstMidnight(addDays(due, -rng.int(5, 14)))!.getTime() + rng.int(11, 19) * HOUR);
			rows.push({
				id: rng.uuid(), customer_id: rng.pick(customers.rows).id, store_id: s.store, staff_id: s.id, occurred_at: occurred, items: '[]', sizes: '{}',
				notes: '', tags: [], next_action: rng.pick(DEMO_ACTIONS), next_action_due: due, created_at: occurred
			});
		}
		if (rows.length > 0) await db.insertInto('consultations').values(rows as never).execute();
	}
}

/** One manager campaign per store, started ten days ago: EC and cross-channel buyers with a high LTV. */
async function demoCampaigns(db: Db, anchorDate: string, dormantDays: number): Promise<void> {
	const managers = await sql<{ id: string; store: string; display_name: string }>`
		select id, home_store_id as store, display_name from staff where active and role = 'manager' order by staff_code`.execute(db);
	const startsOn = addDays(anchorDate, -10);
	for (const m of managers.rows) {
		const since = new Date();
		await createCampaign(
			db,
			{ id: m.id, role: 'manager', storeId: m.store, deviceId: m.id, displayName: m.display_name },
			{
				name: '冬の新作のご案内',
				templateKey: 'new_arrivals',
				message: 'ウールコートの新作をご案内ください',
				segment: { states: ['cross_channel', 'ec_only'], storeId: m.store, ltvMin: 100_000 },
				startsOn,
				dueOn: addDays(anchorDate, 4)
			},
			dormantDays,
			new Date(jstMidnight(anchorDate)!.getTime() + 9 * HOUR)
		);
		await sql`update worklist_items set created_at = ${new Date(jstMidnight(startsOn)!.getTime() + 9 * HOUR)} where created_at >= ${since} and reason = 'campaign'`.execute(db);
	}
}
