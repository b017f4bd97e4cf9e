/**
 * Customer master rows: resolved like any other record (member number, then ids), new ones
 * created with the file's member number, existing ones updated cell by cell.
 */
import type { Trx } from '../../db/index.ts';
import {
	advanceMemberNoSequence,
	resolveCustomersBatch,
	updateCustomerProfiles,
	type CustomerProfileUpdate
} from '../../modules/customers/customers.service.ts';
import type { CustomerRow } from '../row-schemas.ts';
import { emptyOutcome, type BatchOutcome, type NumberedRow, type WriterContext } from './types.ts';

export async function writeCustomersBatch(
	trx: Trx,
	rows: Array<NumberedRow<CustomerRow>>,
	ctx: WriterContext
): Promise<BatchOutcome> {
	const outcome = emptyOutcome();
	const good = rows.filter(({ line, row }) => {
		if (!row.home_store || ctx.storeIds.has(row.home_store)) return true;
		outcome.bad.push({ line, reason: `unknown home_store "${row.home_store}"` });
		return false;
	});
	// Numbers from the file first, so the sequence never hands out one of them.
	await advanceMemberNoSequence(trx, good.flatMap(({ row }) => (row.member_no ? [row.member_no] : [])));

	const profiles = good.map(({ row }) => ({
		family_name: row.family_name,
		given_name: row.given_name,
		family_kana: row.family_kana,
		given_kana: row.given_kana,
		birthday: row.birthday,
		email: row.email,
		phone: row.phone,
		home_store_id: row.home_store,
		consent_messages: row.consent_messages ?? false,
		consent_messages_at: row.consent_messages ? new Date() : null
	}));
	const resolved = await resolveCustomersBatch(
		trx,
		good.map(({ row }, i) => ({
			identities: { pos: row.pos_code, ec: row.ec_customer_id, email: row.email, phone: row.phone },
			memberNo: row.member_no,
			profile: profiles[i]
		}))
	);

	// Existing customers take the file's values (last row wins when two rows are one customer).
	const updates = new Map<string, CustomerProfileUpdate>();
	resolved.forEach((r, i) => {
		if (!r || r.created) return;
		const p = profiles[i];
		const { consent_messages_at: _at, ...fields } = p;
		updates.set(r.customerId, { id: r.customerId, ...fields, consent_messages: good[i].row.consent_messages });
	});
	const updated = await updateCustomerProfiles(trx, [...updates.values()]);

	outcome.counts = {
		customers_new: resolved.filter((r) => r?.created).length,
		customers_updated: updated,
		customers_unchanged: updates.size - updated
	};
	return outcome;
}
