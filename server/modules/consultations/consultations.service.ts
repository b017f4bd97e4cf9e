/**
 * 接客記録: idempotent create by a client-generated UUID (the tablet's outbox replays until it
 * gets an answer), and the brand-wide history of a customer with who wrote each record.
 */
import type { Db } from '../../db/index.ts';
import type { StaffPrincipal } from '../../http/context.ts';
import * as v from 'valibot';
import { badRequest, conflict, notFound } from '../../errors.ts';
import { defineSetting, readSetting } from '../settings/settings.service.ts';
import { DEFAULT_SIZE_LISTS, SIZE_CATEGORIES, isSizeCategory, matchSize, type SizeLists } from '../../shared/sizes.ts';
import type {
	ConsultationRecord,
	CustomerConsultationsResponse,
	PutConsultationRequest
} from './consultations.types.ts';
import { recordCustomerAccess } from '../audit/audit.service.ts';
import { findCustomerIdByMemberNo } from '../customers/profile.repository.ts';
import { isUuid } from '../../shared/ids.ts';
import * as repo from './consultations.repository.ts';

export function toRecord(row: repo.ConsultationWithNames): ConsultationRecord {
	return {
		id: row.id,
		customerId: row.customer_id,
		memberNo: row.member_no,
		storeId: row.store_id,
		storeName: row.store_name,
		staffId: row.staff_id,
		staffName: row.staff_name,
		deviceId: row.device_id,
		occurredAt: row.occurred_at.toISOString(),
		items: (row.items ?? []).map((i) => ({
			...(i.productId != null ? { productId: i.productId } : {}),
			...(i.sku ? { sku: i.sku } : {}),
			name: i.name,
			...(i.size ? { size: i.size } : {}),
			...(i.color ? { color: i.color } : {}),
			outcome: i.outcome
		})),
		sizes: row.sizes ?? {},
		notes: row.notes,
		tags: row.tags,
		nextAction: row.next_action,
		nextActionDue: row.next_action_due,
		createdAt: row.created_at.toISOString()
	};
}

/** The brand's size lists: which categories the tablet offers, and the sizes of each. */
export const SIZE_LISTS = defineSetting<SizeLists>(
	'consultations.sizeLists',
	v.record(v.picklist(SIZE_CATEGORIES), v.pipe(v.array(v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(20))), v.minLength(1), v.maxLength(100))) as v.GenericSchema<unknown, SizeLists>,
	DEFAULT_SIZE_LISTS
);

export function sizeLists(db: Db): Promise<SizeLists> {
	return readSetting(db, SIZE_LISTS);
}

/**
 * One size per category, each an entry of the brand's list (a typed "24" or "ｍ" is read as
 * "24.0" or "M"); anything else is a 400 the tablet shows translated, with the field named.
 */
export function validSizes(input: Record<string, string>, lists: SizeLists): Record<string, string> {
	const out: Record<string, string> = {};
	for (const [category, raw] of Object.entries(input)) {
		if (!raw.trim()) continue;
		const list = isSizeCategory(category) ? lists[category] : undefined;
		if (!list) throw badRequest('size_category_unknown', `No size list for ${category}`, { [`sizes.${category}`]: 'Unknown category' });
		const size = matchSize(raw, list);
		if (!size) throw badRequest('size_not_in_list', `${raw} is not a ${category} size`, { [`sizes.${category}`]: 'Not in the size list' });
		out[category] = size;
	}
	return out;
}

/**
 * Resolves who the record is about: a customer id as given (forwarded when merged), or a member
 * number from an offline scan. An unknown member number is kept as is, to be linked later.
 */
async function resolveSubject(db: Db, input: PutConsultationRequest): Promise<{ customerId: string | null; memberNo: string | null }> {
	if (input.customerId) {
		const found = await repo.customerExists(db, input.customerId);
		if (!found) throw notFound('customer_not_found', 'No such customer');
		return { customerId: found.merged_into ?? found.id, memberNo: input.memberNo ?? null };
	}
	const memberNo = input.memberNo ?? null;
	const byMember = memberNo ? await findCustomerIdByMemberNo(db, memberNo) : undefined;
	return { customerId: byMember?.id ?? null, memberNo };
}

/** Told about a consultation just recorded (compose.ts wires the client book's first-contact rule). */
export type ConsultationHook = (db: Db, event: { customerId: string | null; staffId: string; storeId: string }) => Promise<void>;

export async function putConsultation(
	db: Db,
	actor: StaffPrincipal,
	id: string,
	input: PutConsultationRequest,
	hooks: ConsultationHook[] = []
): Promise<{ created: boolean; consultation: ConsultationRecord }> {
	// a replay answers from what is stored, whatever the body says now
	const existing = await repo.findConsultation(db, id);
	if (existing) return { created: false, consultation: replayed(existing, actor) };
	const sizes = validSizes(input.sizes, await sizeLists(db));
	const subject = await resolveSubject(db, input);
	const created = await repo.insertConsultationOnce(db, {
		id,
		customer_id: subject.customerId,
		member_no: subject.memberNo,
		store_id: actor.storeId,
		staff_id: actor.id,
		device_id: actor.deviceId,
		occurred_at: new Date(input.occurredAt),
		items: input.items,
		sizes,
		notes: input.notes,
		tags: [...new Set(input.tags)],
		next_action: input.nextAction ?? null,
		next_action_due: input.nextActionDue ?? null
	});
	const row = await repo.findConsultation(db, id);
	if (!row) throw new Error('consultation vanished after insert');
	if (created) for (const hook of hooks) await hook(db, { customerId: subject.customerId, staffId: actor.id, storeId: actor.storeId });
	// lost a race with a concurrent replay of the same id: answer like a replay
	return created ? { created: true, consultation: toRecord(row) } : { created: false, consultation: replayed(row, actor) };
}

function replayed(row: repo.ConsultationWithNames, actor: StaffPrincipal): ConsultationRecord {
	if (row.staff_id !== actor.id) throw conflict('id_conflict', 'This consultation id belongs to another staff member');
	return toRecord(row);
}

const HISTORY_LIMIT = 200;

/** A customer's consultation history (notes and sizes: personal data), audited as consultations.view. */
export async function customerConsultations(db: Db, actor: StaffPrincipal, customerId: string): Promise<CustomerConsultationsResponse> {
	if (!isUuid(customerId)) throw notFound('customer_not_found', 'No such customer');
	const found = await repo.customerExists(db, customerId);
	if (!found) throw notFound('customer_not_found', 'No such customer');
	const survivor = found.merged_into ?? found.id;
	const ids = [survivor, ...(await repo.mergedInto(db, survivor))];
	const [rows] = await Promise.all([
		repo.listForCustomers(db, ids, HISTORY_LIMIT),
		recordCustomerAccess(db, actor, 'consultations.view', [survivor], null)
	]);
	// a row stored with an impossible date (before input validation) is skipped, not a 500
	return { consultations: rows.filter((r) => !Number.isNaN(r.occurred_at.getTime())).map(toRecord) };
}

export { eraseConsultationsOf } from './consultations.repository.ts';
/** Merge support: the owning repository's "reassign customer" function (server/modules/identity/merge.service.ts). */
export { reassignConsultations } from './consultations.repository.ts';
