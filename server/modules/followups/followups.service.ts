/**
 * Compose and templates: who may be messaged, what the message looks like, and queueing it
 * (follow-up + its tracked links in one transaction). Delivery is the outbox's job (outbox.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Db, DbOrTrx, Trx } from '../../db/index.ts';
import { badRequest, conflict, forbidden, notFound } from '../../errors.ts';
import type { StaffPrincipal } from '../../http/context.ts';
import { recordCustomerAccess } from '../audit/audit.service.ts';
import { assertMessageConsent, messageConsent } from '../privacy/privacy.service.ts';
import { homeStoreOf } from '../staff/staff.service.ts';
import { checkOverride, contactAllowance, contactPolicy, lastContacts, recordFollowUp, releaseFollowUp, reserveFollowUp, type OverrideRequest } from '../contact/contact.service.ts';
import { createLinks, mintLinkCode, trackedLinkUrl, type NewTrackedLink } from '../links/links.service.ts';
import * as repo from './followups.repository.ts';
import { MAX_PRODUCTS, buildLineMessages, checkSender, type ProductCard } from '../../integrations/line/flex.ts';
import { followUpEligibility, renderTemplate, type TemplateVars } from './messages.ts';

export interface ComposeInput {
	id?: string;
	customerId: string;
	templateKey?: string | null;
	text: string;
	productIds: number[];
	/** A manager sending over the contact limit, with why (audited). */
	override?: OverrideRequest | null;
}

export async function listTemplates(db: Db) {
	return repo.listTemplates(db);
}

export async function saveTemplate(db: Db, staff: StaffPrincipal, key: string, title: string, body: string) {
	return repo.upsertTemplate(db, key, title, body, staff.id);
}

/**
 * Everything the compose screen needs: may we send, as whom, to whom, with which templates,
 * and the contact limits (who contacted the customer last, what is left, quiet hours).
 */
export async function composeContext(db: Db, staff: StaffPrincipal, customerId: string, now: Date = new Date()) {
	const base = await recipientContext(db, staff, customerId);
	const [allowance, last, policy] = await Promise.all([contactAllowance(db, [customerId], now), lastContacts(db, [customerId], now), contactPolicy(db)]);
	const a = allowance.get(customerId)!;
	return {
		...base,
		contact: {
			allowed: a.allowed,
			reason: a.reason,
			sendAt: a.sendAt.toISOString(),
			scheduled: a.scheduled,
			nextAllowedAt: a.nextAllowedAt?.toISOString() ?? null,
			windows: a.windows,
			lastContact: last.get(customerId) ?? null,
			quietHours: policy.quietHours,
			/** Managers and admins may send over the limit with a reason. */
			canOverride: staff.role !== 'staff'
		}
	};
}

/** Recipient, sender and whether the customer can receive LINE follow-ups at all. */
async function recipientContext(db: Db, staff: StaffPrincipal, customerId: string) {
	const recipient = await repo.findRecipient(db, customerId);
	if (!recipient) throw notFound('customer_not_found', 'No such customer');
	const senderRow = await repo.findSender(db, staff.id, staff.storeId);
	if (!senderRow) throw notFound('staff_not_found', 'No such staff member');
	const sender = checkSender(senderRow.sender_name, senderRow.sender_icon_url);
	// the consent ledger first (withdrawn / left), then LINE reachability and the imported flag
	const consent = await messageConsent(db, customerId);
	const eligibility = consent.allowed ? followUpEligibility(recipient) : consent;
	const vars = varsFor(recipient, senderRow);
	return {
		// Named on screen so staff see who the message goes to before sending it.
		recipient: { name: vars.customerName, memberNo: recipient.member_no, lineReachable: eligibility.allowed },
		eligibility: sender.problem ? { allowed: false, reason: sender.problem } : eligibility,
		sender: { name: senderRow.sender_name, iconUrl: sender.sender?.iconUrl ?? null, iconDropped: sender.iconDropped },
		vars,
		templates: await repo.listTemplates(db)
	};
}

/** The LINE messages as they would be sent (links shown as placeholders). */
export async function preview(db: Db, staff: StaffPrincipal, input: Omit<ComposeInput, 'id'>, publicBaseUrl: string) {
	const prepared = await prepare(db, staff, input);
	const cards = prepared.products.map((p) => card(p, trackedLinkUrl(publicBaseUrl, 'preview')));
	return { messages: buildLineMessages(prepared.text, prepared.sender, cards), eligibility: prepared.eligibility };
}

/**
 * Queues a follow-up. Idempotent on `input.id` (the tablet's key), so a retried request never
 * queues twice. Refused (409) when the customer may not be messaged, or (409 contact_limit_*)
 * when the contact limits are used up — unless a manager overrides with a reason. Composed in
 * quiet hours, it is scheduled for their end (`scheduledFor`). The limit check, the follow-up
 * and its contact record are one transaction under the customer's contact lock. `wakeOutbox`
 * pokes the push worker (`deps.wake.outbox`).
 */
export async function queueFollowUp(
	db: Db,
	staff: StaffPrincipal,
	input: ComposeInput,
	publicBaseUrl: string,
	wakeOutbox: () => void,
	now: Date = new Date()
) {
	await assertMessageConsent(db, input.customerId);
	const overrideReason = checkOverride(staff, input.override);
	const prepared = await prepare(db, staff, input);
	const id = input.id ?? randomUUID();
	const existing = await repo.findFollowUp(db, id);
	if (existing) return answerExisting(existing, staff, input);
	if (!prepared.eligibility.allowed) {
		throw conflict(`not_allowed_${prepared.eligibility.reason}`, `This customer cannot receive LINE follow-ups (${prepared.eligibility.reason})`);
	}
	const links: NewTrackedLink[] = prepared.products.map((p) => ({
		code: mintLinkCode(),
		follow_up_id: id,
		staff_id: staff.id,
		store_id: staff.storeId,
		customer_id: input.customerId,
		product_id: p.id,
		target_url: p.ec_url!
	}));
	const cards = prepared.products.map((p, i) => card(p, trackedLinkUrl(publicBaseUrl, links[i].code)));
	const messages = buildLineMessages(prepared.text, prepared.sender, cards);
	const contact = { customerId: input.customerId, staff, followUpId: id, now, overrideReason };
	const created = await db.transaction().execute(async (trx) => {
		const reservation = await reserveFollowUp(trx, contact, async () => (await repo.findFollowUp(trx, id)) !== undefined);
		if (!reservation) return false;
		const inserted = await repo.insertFollowUp(trx, {
			id,
			customer_id: input.customerId,
			staff_id: staff.id,
			store_id: staff.storeId,
			template_key: input.templateKey ?? null,
			body: prepared.text,
			messages,
			scheduled_for: reservation.scheduled ? reservation.sendAt : null
		});
		if (!inserted) return false;
		await recordFollowUp(trx, contact, reservation);
		await createLinks(trx, links);
		return true;
	});
	const row = await repo.findFollowUp(db, id);
	if (!row) throw notFound('follow_up_not_found', 'No such follow-up');
	if (!created) return answerExisting(row, staff, input);
	wakeOutbox();
	return { created, followUp: publicFollowUp(row) };
}

/** A replay of a stored id: the first answer again, or 409 when the id is someone else's. */
function answerExisting(row: NonNullable<Awaited<ReturnType<typeof repo.findFollowUp>>>, staff: StaffPrincipal, input: ComposeInput) {
	if (row.customer_id !== input.customerId || row.staff_id !== staff.id) {
		throw conflict('id_in_use', 'This id belongs to another follow-up');
	}
	return { created: false, followUp: publicFollowUp(row) };
}

/**
 * One follow-up in full (message text, customer, links), under the same scope as the reports:
 * staff read their own, managers those sent from their home store, admins all. Audited.
 */
export async function getFollowUp(db: Db, staff: StaffPrincipal, id: string) {
	const row = await repo.findFollowUp(db, id);
	if (!row) throw notFound('follow_up_not_found', 'No such follow-up');
	await checkFollowUpScope(db, staff, row);
	await recordCustomerAccess(db, staff, 'followup.view', [row.customer_id], null, { followUpId: row.id });
	return publicFollowUp(row);
}

async function checkFollowUpScope(db: Db, staff: StaffPrincipal, row: { staff_id: string; store_id: string }): Promise<void> {
	if (staff.role === 'admin' || row.staff_id === staff.id) return;
	if (staff.role === 'manager' && (await homeStoreOf(db, staff.id)) === row.store_id) return;
	throw forbidden('forbidden', 'This follow-up was sent by someone outside your scope');
}

function publicFollowUp(row: NonNullable<Awaited<ReturnType<typeof repo.findFollowUp>>>) {
	return {
		id: row.id,
		customerId: row.customer_id,
		status: row.status,
		attempts: row.attempts,
		failureReason: row.failure_reason,
		createdAt: new Date(row.created_at).toISOString(),
		sentAt: row.sent_at ? new Date(row.sent_at).toISOString() : null,
		/** Composed during quiet hours: goes out at this time (予約済み until then). */
		scheduledFor: row.scheduled_for ? new Date(row.scheduled_for).toISOString() : null,
		body: row.body,
		messages: row.messages as unknown[]
	};
}

async function prepare(db: Db, staff: StaffPrincipal, input: Omit<ComposeInput, 'id'>) {
	const ids = [...new Set(input.productIds)];
	if (ids.length > MAX_PRODUCTS) throw badRequest('too_many_products', `At most ${MAX_PRODUCTS} products`, { productIds: `max ${MAX_PRODUCTS}` });
	if (input.templateKey && !(await repo.findTemplate(db, input.templateKey))) {
		throw badRequest('unknown_template', 'No such template', { templateKey: 'unknown' });
	}
	// the contact limits are decided in the send's transaction, under the customer's lock
	const context = await recipientContext(db, staff, input.customerId);
	const { sender, products } = await senderAndProducts(db, staff, ids);
	const text = renderTemplate(input.text, context.vars).trim();
	if (text.length === 0) throw badRequest('validation_failed', 'The message is empty', { text: 'required' });
	if (text.length > 5000) throw badRequest('validation_failed', 'The message is too long', { text: 'max 5000' });
	return { text, sender, products, eligibility: context.eligibility };
}

function card(p: { name: string; price_yen: number; image_url: string | null }, linkUrl: string): ProductCard {
	// an image stored by path (the demo catalogue) lives on this app, like the tracked link
	const imageUrl = p.image_url?.startsWith('/') ? new URL(p.image_url, linkUrl).toString() : p.image_url;
	return { name: p.name, priceYen: p.price_yen, imageUrl, linkUrl };
}

function varsFor(
	recipient: { family_name: string | null; given_name: string | null },
	sender: { display_name: string; store_name: string | null }
): TemplateVars {
	const customerName = [recipient.family_name, recipient.given_name].filter(Boolean).join(' ') || 'お客';
	return { customerName, staffName: sender.display_name, storeName: sender.store_name ?? '' };
}

/** For conversations: queue a staff answer as a push (see repo.insertConversationPush). */
export async function queueConversationPush(
	db: DbOrTrx,
	push: { id: string; customerId: string; staffId: string; storeId: string; body: string; messages: unknown[] }
): Promise<void> {
	await repo.insertConversationPush(db, {
		id: push.id,
		customer_id: push.customerId,
		staff_id: push.staffId,
		store_id: push.storeId,
		body: push.body,
		messages: push.messages
	});
}

/** For each customer, who sent their newest follow-up (still going or gone out) and when (conversation routing). */
export async function lastFollowUpSenders(db: DbOrTrx, customerIds: string[]) {
	return repo.lastSenders(db, customerIds);
}

export async function pushesSince(db: DbOrTrx, since: Date): Promise<number> {
	return repo.pushesSince(db, since);
}

/** The sender and product cards of a staff message, shared by follow-ups and conversation answers. */
export async function senderAndProducts(db: DbOrTrx, staff: StaffPrincipal, productIds: number[]) {
	const senderRow = await repo.findSender(db, staff.id, staff.storeId);
	if (!senderRow) throw notFound('staff_not_found', 'No such staff member');
	const sender = checkSender(senderRow.sender_name, senderRow.sender_icon_url);
	if (!sender.sender) throw badRequest(sender.problem!, 'The staff member\'s LINE sender name is not valid (1–20 characters, not "LINE")');
	const ids = [...new Set(productIds)];
	if (ids.length > MAX_PRODUCTS) throw badRequest('too_many_products', `At most ${MAX_PRODUCTS} products`, { productIds: `max ${MAX_PRODUCTS}` });
	const found = await repo.findProducts(db, ids);
	const byId = new Map(found.map((p) => [p.id, p]));
	const products = ids.map((id) => {
		const p = byId.get(id);
		if (!p || !p.active) throw badRequest('unknown_product', `No active product ${id}`, { productIds: String(id) });
		if (!p.ec_url) throw badRequest('product_not_on_ec', `Product ${p.sku} is not sold online`, { productIds: String(id) });
		return p;
	});
	return { sender: sender.sender, senderRow, products };
}

export { card as productCard };

/**
 * The customer blocked the account (or was blocked before they linked): nothing queued for them
 * may go out. Runs in the caller's transaction; returns how many were cancelled.
 */
export async function cancelQueuedForBlocked(trx: Trx, customerId: string): Promise<number> {
	const ids = await repo.cancelQueuedFollowUps(trx, customerId);
	for (const id of ids) await releaseFollowUp(trx, id);
	return ids.length;
}

/** The customer left or withdrew message consent: nothing queued for them goes out. */
export async function cancelQueuedFor(trx: Trx, customerId: string, reason: 'consent_withdrawn' | 'member_left'): Promise<number> {
	return repo.cancelQueuedWithReason(trx, customerId, reason);
}

export async function eraseFollowUpTextsOf(trx: Trx, customerId: string): Promise<void> {
	return repo.eraseFollowUpTextsOf(trx, customerId);
}

/** Merge support: the owning repository's "reassign customer" function (server/modules/identity/merge.service.ts). */
export { reassignFollowUps } from './followups.repository.ts';
