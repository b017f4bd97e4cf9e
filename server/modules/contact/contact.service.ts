/**
 * Contact limits (issue 11 §3): how often a customer may receive personal LINE messages from
 * staff, and when. Owns `contact_log`, the record of every staff message to a customer.
 *
 * What counts: a follow-up (`POST /api/followups`) — unsolicited contact — counts against the
 * rolling 7- and 30-day limits, whichever staff member sent it, from the moment it goes out
 * (its scheduled time when composed during quiet hours), until LINE refuses it for good
 * (failed / cancelled: released). An answer in a conversation the customer opened (free reply
 * or push) is a service reply: recorded for "last contact", never counted, never held back by
 * quiet hours. A customer who blocked the account, withdrew marketing consent, is not a friend
 * or has no LINE is never contactable, whatever the limits.
 *
 * `contactAllowance(db, customerIds, now)` answers for many customers at once (today's list);
 * `reserveFollowUp` is the send path's check, under a per-customer lock, in the send's transaction.
 */
import * as v from 'valibot';
import type { Db, DbOrTrx, Trx } from '../../db/index.ts';
import { badRequest, conflict, forbidden } from '../../errors.ts';
import type { StaffPrincipal } from '../../http/context.ts';
import { DAY_MS } from '../../shared/jst.ts';
import { recordContactOverride } from '../audit/audit.service.ts';
import { followUpEligibility, type IneligibleReason } from '../followups/messages.ts';
import { defineSetting, parseSetting, readSettings, writeSetting } from '../settings/settings.service.ts';
import * as repo from './contact.repository.ts';
import { decide, HHMM, type ContactPolicy, type LimitDecision, type WindowKey } from './rules.ts';

// ---- brand settings ----

const Count = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(100));
export const MAX_PER_7_DAYS = defineSetting('contact.maxPer7Days', Count, 1);
export const MAX_PER_30_DAYS = defineSetting('contact.maxPer30Days', Count, 4);
const Hhmm = v.pipe(v.string(), v.regex(HHMM, 'HH:MM'));
export const QUIET_HOURS = defineSetting(
	'contact.quietHours',
	v.nullable(
		v.pipe(
			v.object({ start: Hhmm, end: Hhmm }),
			v.check((q) => q.start !== q.end, 'start and end differ')
		)
	),
	{ start: '21:00', end: '09:00' }
);

export async function contactPolicy(db: DbOrTrx): Promise<ContactPolicy> {
	const [maxPer7Days, maxPer30Days, quietHours] = await readSettings(db, [MAX_PER_7_DAYS, MAX_PER_30_DAYS, QUIET_HOURS] as const);
	return { maxPer7Days, maxPer30Days, quietHours };
}

/**
 * Managers change the policy; every field is optional, each is validated (400 invalid_setting
 * naming the field) before any is stored, so a bad one changes nothing (a 7-day limit above the
 * 30-day one is allowed: the 30-day one then binds). Each change is audited by the settings module.
 */
export async function writeContactPolicy(
	db: Db,
	staff: StaffPrincipal,
	input: { maxPer7Days?: unknown; maxPer30Days?: unknown; quietHours?: unknown }
): Promise<ContactPolicy> {
	const current = await contactPolicy(db);
	const next: ContactPolicy = {
		maxPer7Days: input.maxPer7Days !== undefined ? parseSetting(MAX_PER_7_DAYS, input.maxPer7Days, 'maxPer7Days') : current.maxPer7Days,
		maxPer30Days: input.maxPer30Days !== undefined ? parseSetting(MAX_PER_30_DAYS, input.maxPer30Days, 'maxPer30Days') : current.maxPer30Days,
		quietHours: input.quietHours !== undefined ? parseSetting(QUIET_HOURS, input.quietHours, 'quietHours') : current.quietHours
	};
	await db.transaction().execute(async (trx) => {
		if (input.maxPer7Days !== undefined) await writeSetting(trx, MAX_PER_7_DAYS, next.maxPer7Days, staff.id);
		if (input.maxPer30Days !== undefined) await writeSetting(trx, MAX_PER_30_DAYS, next.maxPer30Days, staff.id);
		if (input.quietHours !== undefined) await writeSetting(trx, QUIET_HOURS, next.quietHours, staff.id);
	});
	return contactPolicy(db);
}

// ---- may this customer be contacted now? ----

export type ContactBlock = IneligibleReason | 'unknown_customer' | `limit_${WindowKey}`;

export interface Allowance {
	customerId: string;
	allowed: boolean;
	reason: ContactBlock | null;
	/** When a follow-up composed now would go out (the end of the quiet hours, or now). */
	sendAt: Date;
	scheduled: boolean;
	/** The earliest a follow-up may be sent again; null when never (unreachable, or a limit of 0). */
	nextAllowedAt: Date | null;
	windows: LimitDecision['windows'];
}

/** Per customer: may a follow-up be sent now, why not, and from when. One query per kind of fact. */
export async function contactAllowance(db: DbOrTrx, customerIds: string[], now: Date): Promise<Map<string, Allowance>> {
	const ids = [...new Set(customerIds)];
	const policy = await contactPolicy(db);
	const [facts, contacts] = await Promise.all([repo.reachability(db, ids), repo.countedContacts(db, ids, windowStart(now))]);
	const byCustomer = new Map<string, Date[]>();
	for (const c of contacts) byCustomer.set(c.customer_id, [...(byCustomer.get(c.customer_id) ?? []), new Date(c.at)]);
	const factsById = new Map(facts.map((f) => [f.id, f]));
	const out = new Map<string, Allowance>();
	for (const id of ids) {
		const d = decide(now, byCustomer.get(id) ?? [], policy);
		const f = factsById.get(id);
		const reach = f ? followUpEligibility(f) : { allowed: false, reason: 'unknown_customer' as const };
		const reason: ContactBlock | null = !reach.allowed ? reach.reason : d.over ? `limit_${d.over}` : null;
		out.set(id, {
			customerId: id,
			allowed: reason === null,
			reason,
			sendAt: d.sendAt,
			scheduled: d.scheduled,
			nextAllowedAt: reach.allowed ? d.nextAllowedAt : null,
			windows: d.windows
		});
	}
	return out;
}

/** Contacts that can matter for a decision at `now` (sends are at most a day after compose). */
const windowStart = (now: Date) => new Date(now.getTime() - 31 * DAY_MS);

// ---- the send path ----

export interface OverrideRequest {
	reason?: string | null;
}

/** 403 for a staff session, 400 without a reason; returns the trimmed reason. Checked before anything is sent. */
export function checkOverride(staff: StaffPrincipal, override: OverrideRequest | null | undefined): string | null {
	if (!override) return null;
	if (staff.role === 'staff') throw forbidden('override_forbidden', 'Only a manager or an admin may send over the contact limit');
	const reason = (override.reason ?? '').trim();
	if (!reason) throw badRequest('override_reason_required', 'An override needs a reason', { 'override.reason': 'required' });
	if ([...reason].length > 500) throw badRequest('validation_failed', 'The reason is too long', { 'override.reason': 'max 500' });
	return reason;
}

export interface Reservation {
	sendAt: Date;
	scheduled: boolean;
	overridden: boolean;
}

/**
 * The check of one follow-up, inside the transaction that stores it: takes the customer's
 * contact lock (two tablets at once: one waits, then counts the other's send), decides
 * against the windows at the time the message goes out, refuses (409 `contact_limit_7d` /
 * `_30d`) unless a manager overrides with a reason (audited), and records the contact.
 * `alreadyStored` is asked under the lock, so a replayed request is answered, not refused.
 */
export async function reserveFollowUp(
	trx: Trx,
	input: { customerId: string; staff: StaffPrincipal; followUpId: string; now: Date; overrideReason: string | null },
	alreadyStored: () => Promise<boolean>
): Promise<Reservation | null> {
	await repo.lockCustomer(trx, input.customerId);
	if (await alreadyStored()) return null;
	const policy = await contactPolicy(trx);
	const contacts = await repo.countedContacts(trx, [input.customerId], windowStart(input.now));
	const d = decide(input.now, contacts.map((c) => new Date(c.at)), policy);
	let overridden = false;
	if (!d.allowed) {
		const full = d.windows.find((w) => w.window === d.over)!;
		if (!input.overrideReason) {
			const when = d.nextAllowedAt ? ` Next allowed at ${d.nextAllowedAt.toISOString()}.` : '';
			throw conflict(`contact_limit_${d.over!}`, `This customer already received ${full.used} of ${full.max} messages in ${full.days} days.${when}`);
		}
		overridden = true;
		await recordContactOverride(trx, input.staff, {
			customerId: input.customerId,
			followUpId: input.followUpId,
			reason: input.overrideReason,
			window: full.window,
			used: full.used,
			max: full.max
		});
	}
	return { sendAt: d.sendAt, scheduled: d.scheduled, overridden };
}

/** Records a counted follow-up once it is stored (same transaction as reserveFollowUp). */
export async function recordFollowUp(
	trx: Trx,
	input: { customerId: string; staff: StaffPrincipal; followUpId: string; now: Date; overrideReason: string | null },
	reservation: Reservation
): Promise<void> {
	await repo.insertContact(trx, {
		customer_id: input.customerId,
		staff_id: input.staff.id,
		store_id: input.staff.storeId,
		kind: 'followup',
		counted: true,
		follow_up_id: input.followUpId,
		at: reservation.sendAt,
		composed_at: input.now,
		override_by: reservation.overridden ? input.staff.id : null,
		override_reason: reservation.overridden ? input.overrideReason : null
	});
}

/** A staff answer in a conversation the customer opened: shown as last contact, never counted. */
export async function recordConversationAnswer(trx: DbOrTrx, input: { customerId: string; staffId: string; storeId: string; at: Date }): Promise<void> {
	await repo.insertContact(trx, {
		customer_id: input.customerId,
		staff_id: input.staffId,
		store_id: input.storeId,
		kind: 'conversation',
		counted: false,
		follow_up_id: null,
		at: input.at,
		composed_at: input.at,
		override_by: null,
		override_reason: null
	});
}

/** Follow-ups stored without the send path (the demo seed) are recorded as contacts. */
export async function recordUnrecordedFollowUps(db: DbOrTrx): Promise<number> {
	return repo.recordUnrecordedFollowUps(db);
}

/** A follow-up LINE never accepted (failed, or cancelled because the customer became unreachable) stops counting. */
export async function releaseFollowUp(db: DbOrTrx, followUpId: string): Promise<void> {
	await repo.releaseFollowUp(db, followUpId);
}

export interface LastContact {
	at: string;
	kind: 'followup' | 'conversation';
	channel: 'line';
	staffId: string;
	staffName: string;
	storeName: string;
	storeNameEn: string;
}

/** Who last messaged each customer, how and when (messages that have gone out). */
export async function lastContacts(db: DbOrTrx, customerIds: string[], now: Date): Promise<Map<string, LastContact>> {
	const rows = await repo.lastContacts(db, [...new Set(customerIds)], now);
	return new Map(
		rows.map((r) => [
			r.customer_id,
			{
				at: new Date(r.at).toISOString(),
				kind: r.kind as LastContact['kind'],
				channel: r.channel as 'line',
				staffId: r.staff_id,
				staffName: r.staff_name,
				storeName: r.store_name,
				storeNameEn: r.store_name_en
			}
		])
	);
}

/** Overrides for managers (their home store) and admins (all), newest first. */
export async function listOverrides(db: DbOrTrx, staff: StaffPrincipal, limit = 100) {
	const rows = await repo.listOverrides(db, staff.role === 'admin' ? null : staff.storeId, limit);
	return rows.map((r) => ({
		id: Number(r.id),
		overriddenAt: new Date(r.created_at).toISOString(),
		sendAt: new Date(r.at).toISOString(),
		customerId: r.customer_id,
		memberNo: r.member_no,
		followUpId: r.follow_up_id,
		reason: r.override_reason ?? '',
		by: r.override_by_name,
		staffName: r.staff_name,
		storeId: r.store_id
	}));
}
