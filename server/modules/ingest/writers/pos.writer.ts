/**
 * POS receipt lines → store_purchases (one per `store_code-receipt_no`) + store_purchase_lines.
 * The receipt's store, time, staff and customer come from its first line in the file.
 */
import type { Trx } from '../../../db/index.ts';
import { resolveCustomersBatch } from '../../customers/customers.service.ts';
import { insertReceiptLines, insertReceipts, refreshReceiptTotals, type ReceiptInsert } from '../ingest.repository.ts';
import type { PosRow } from '../row-schemas.ts';
import { emptyOutcome, type BatchOutcome, type NumberedRow, type WriterContext } from './types.ts';

export const posTxnId = (row: Pick<PosRow, 'store_code' | 'receipt_no'>) => `${row.store_code}-${row.receipt_no}`;

export async function writePosBatch(trx: Trx, rows: Array<NumberedRow<PosRow>>, ctx: WriterContext): Promise<BatchOutcome> {
	const outcome = emptyOutcome();
	const good = rows.filter(({ line, row }) => {
		if (ctx.storeIds.has(row.store_code)) return true;
		outcome.bad.push({ line, reason: `unknown store_code "${row.store_code}"` });
		return false;
	});

	const firstLines = firstLinePerReceipt(good);
	const customers = await resolveCustomersBatch(
		trx,
		firstLines.map(({ row }) => ({
			identities: { pos: row.customer_code, email: row.email, phone: row.phone },
			memberNo: row.member_no,
			profile: { email: row.email, phone: row.phone, home_store_id: row.store_code }
		}))
	);
	let unknownStaff = 0;
	const receipts: ReceiptInsert[] = firstLines.map(({ row }, i) => {
		const staffId = row.staff_code ? (ctx.staffIdByCode.get(row.staff_code) ?? null) : null;
		if (row.staff_code && !staffId) unknownStaff++;
		return {
			pos_txn_id: posTxnId(row),
			store_id: row.store_code,
			customer_id: customers[i]?.customerId ?? null,
			staff_id: staffId,
			purchased_at: row.purchased_at
		};
	});
	const receiptsInserted = await insertReceipts(trx, receipts);
	const lines = await insertReceiptLines(
		trx,
		good.map(({ row }) => ({
			pos_txn_id: posTxnId(row),
			line_no: row.line_no,
			sku: row.sku,
			quantity: row.quantity,
			unit_price_yen: row.unit_price_yen,
			amount_yen: row.amount_yen
		}))
	);
	await refreshReceiptTotals(trx, receipts.map((r) => r.pos_txn_id));

	outcome.counts = {
		receipts_new: receiptsInserted,
		lines_new: lines.inserted,
		lines_already_present: good.length - lines.inserted,
		customers_new: customers.filter((c) => c?.created).length
	};
	outcome.warnings = { unknown_sku: lines.unknownSku, unknown_staff_code: unknownStaff };
	return outcome;
}

function firstLinePerReceipt(rows: Array<NumberedRow<PosRow>>): Array<NumberedRow<PosRow>> {
	const seen = new Map<string, NumberedRow<PosRow>>();
	for (const r of rows) {
		const key = posTxnId(r.row);
		if (!seen.has(key)) seen.set(key, r);
	}
	return [...seen.values()];
}
