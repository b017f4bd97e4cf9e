/**
 * Compose and templates: who may be messaged, what the message looks like, and queueing it
 * (follow-up + its tracked links in one transaction). Delivery is the outbox's job (outbox.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Db, DbOrTrx, Trx } from '../../db/index.ts';
import { badRequest, conflict, forbidden, notFound } from '../../errors.ts';
import type { StaffPrincipal } from '../../http/context.ts';
import { recordCustomerAccess } from '../audit/audit.service.ts';
import { homeStoreOf } from '../staff/staff.service.ts';
import { createLinks, mintLinkCode, trackedLinkUrl, type NewTrackedLink } from '../links/links.service.ts';
import * as repo from './followups.repository.ts';
import {
	MAX_PRODUCTS,
	buildLineMessages,
	checkSender,
	followUpEligibility,
	renderTemplate,
	type ProductCard,
	type TemplateVars
} from './messages.ts';

export interface ComposeInput {
	id?: string;
	customerId: string;
	templateKey?: string | null;
	text: string;
	productIds: number[];
}

export async function listTemplates(db: Db) {
	return repo.listTemplates(db);
}

export async function saveTemplate(db: Db, staff: StaffPrincipal, key: string, title: string, body: string) {
	return repo.upsertTemplate(db, key, title, body, staff.id);
}

/** Everything the compose screen needs: may we send, as whom, to whom, with which templates. */
export async function composeContext(db: Db, staff: StaffPrincipal, customerId: string) {
	const recipient = await repo.findRecipient(db, customerId);
	if (!recipient) throw notFound('customer_not_found', 'No such customer');
	const senderRow = await repo.findSender(db, staff.id, staff.storeId);
	if (!senderRow) throw notFound('staff_not_found', 'No such staff member');
	const sender = checkSender(senderRow.sender_name, senderRow.sender_icon_url);
	const eligibility = followUpEligibility(recipient);
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
 * queues twice. Refused (409) when the customer may not be messaged. `wakeOutbox` pokes the
 * push worker (`deps.wake.outbox`).
 */
export async function queueFollowUp(db: Db, staff: StaffPrincipal, input: ComposeInput, publicBaseUrl: string, wakeOutbox: () => void) {
	const prepared = await prepare(db, staff, input);
	if (!prepared.eligibility.allowed) {
		throw conflict(`not_allowed_${prepared.eligibility.reason}`, `This customer cannot receive LINE follow-ups (${prepared.eligibility.reason})`);
	}
	const id = input.id ?? randomUUID();
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
	const created = await db.transaction().execute(async (trx) => {
		const inserted = await repo.insertFollowUp(trx, {
			id,
			customer_id: input.customerId,
			staff_id: staff.id,
			store_id: staff.storeId,
			template_key: input.templateKey ?? null,
			body: prepared.text,
			messages
		});
		if (inserted) await createLinks(trx, links);
		return inserted;
	});
	const row = await repo.findFollowUp(db, id);
	if (!row) throw notFound('follow_up_not_found', 'No such follow-up');
	if (!created && (row.customer_id !== input.customerId || row.staff_id !== staff.id)) {
		throw conflict('id_in_use', 'This id belongs to another follow-up');
	}
	if (created) wakeOutbox();
	return { created, followUp: publicFollowUp(row) };
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
	const context = await composeContext(db, staff, input.customerId);
	const senderRow = await repo.findSender(db, staff.id, staff.storeId);
	const sender = checkSender(senderRow!.sender_name, senderRow!.sender_icon_url);
	if (!sender.sender) throw badRequest(sender.problem!, 'The staff member\'s LINE sender name is not valid (1–20 characters, not "LINE")');
	const found = await repo.findProducts(db, ids);
	const byId = new Map(found.map((p) => [p.id, p]));
	const products = ids.map((id) => {
		const p = byId.get(id);
		if (!p || !p.active) throw badRequest('unknown_product', `No active product ${id}`, { productIds: String(id) });
		if (!p.ec_url) throw badRequest('product_not_on_ec', `Product ${p.sku} is not sold online`, { productIds: String(id) });
		return p;
	});
	const text = renderTemplate(input.text, context.vars).trim();
	if (text.length === 0) throw badRequest('validation_failed', 'The message is empty', { text: 'required' });
	if (text.length > 5000) throw badRequest('validation_failed', 'The message is too long', { text: 'max 5000' });
	return { text, sender: sender.sender, products, eligibility: context.eligibility };
}

function card(p: { name: string; price_yen: number; image_url: string | null }, linkUrl: string): ProductCard {
	return { name: p.name, priceYen: p.price_yen, imageUrl: p.image_url, linkUrl };
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

export async function lastFollowUpSender(db: DbOrTrx, customerId: string) {
	return repo.lastSender(db, customerId);
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
	return repo.cancelQueuedFollowUps(trx, customerId);
}

/** Merge support: the owning repository's "reassign customer" function (server/modules/identity/merge.service.ts). */
export { reassignFollowUps } from './followups.repository.ts';
