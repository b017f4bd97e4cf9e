/**
 * POS receipt lines → store_purchases (one per `store_code-receipt_no`) + store_purchase_lines.
 * The receipt's store, time, staff and customer come from its first line in the file.
 *
 * Two steps per batch: `write` resolves the customers (in file order: a batch must see the
 * customers earlier batches created); `after` inserts the receipts, with the totals of their
 * lines, and the lines, in one transaction on another connection while the next batches are
 * resolved. A receipt stored before its batch (a re-import, or an unsorted file whose receipt
 * comes back later) gets its total recomputed from its lines in `finish`.
 */
import type { Db, Trx } from '../../db/index.ts';
import { resolveCustomersBatch } from '../customers/customers.service.ts';
import { findReceiptIds, insertReceiptLines, insertReceipts, refreshReceiptTotals, type ReceiptInsert } from './purchases.repository.ts';
import type { PosRow } from '../../ingest/row-schemas.ts';
import { emptyOutcome, type BatchOutcome, type BatchResult, type KindWriter, type NumberedRow, type WriterContext } from '../../ingest/writers/types.ts';

export const posTxnId = (row: Pick<PosRow, 'store_code' | 'receipt_no'>) => `${row.store_code}-${row.receipt_no}`;

export function createPosWriter(ctx: WriterContext): KindWriter<PosRow> {
	const needsRefresh = new Set<number>();
	return {
		groupKey: posTxnId,
		growsTables: ['customers', 'customer_identities', 'store_purchases', 'store_purchase_lines'],
		write: (trx, rows) => writeReceipts(trx, rows, ctx, needsRefresh),
		finish: async (db: Db) => {
			const ids = [...needsRefresh];
			for (let i = 0; i < ids.length; i += 10_000) await refreshReceiptTotals(db, ids.slice(i, i + 10_000));
		}
	};
}

async function writeReceipts(
	trx: Trx,
	rows: Array<NumberedRow<PosRow>>,
	ctx: WriterContext,
	needsRefresh: Set<number>
): Promise<BatchResult> {
	const outcome = emptyOutcome();
	const good = checkRows(rows, ctx, outcome);
	const receipts = groupReceipts(good);

	const customers = await resolveCustomersBatch(
		trx,
		receipts.map(({ first }) => ({
			identities: { pos: first.customer_code, email: first.email, phone: first.phone },
			memberNo: first.member_no,
			profile: { email: first.email, phone: first.phone, home_store_id: first.store_code }
		}))
	);
	let unknownStaff = 0;
	const inserts: ReceiptInsert[] = receipts.map(({ txn, first, lines }, i) => {
		const staffId = first.staff_code ? (ctx.staffIdByCode.get(first.staff_code) ?? null) : null;
		if (first.staff_code && !staffId) unknownStaff++;
		return {
			pos_txn_id: txn,
			store_id: first.store_code,
			customer_id: customers[i]?.customerId ?? null,
			staff_id: staffId,
			purchased_at: first.purchased_at,
			total_yen: lines.reduce((sum, l) => sum + l.amount_yen, 0),
			kind: lines.every((l) => l.quantity < 0) ? 'return' : 'sale'
		};
	});
	outcome.counts = { customers_new: customers.filter((c) => c?.created).length };
	outcome.warnings = { unknown_staff_code: unknownStaff };
	return {
		outcome,
		after: (db) =>
			db.transaction().execute(async (trx2) => {
				const stored = await writeReceiptsAndLines(trx2, inserts, good);
				for (const id of stored.touched) needsRefresh.add(id);
				return stored.outcome;
			})
	};
}

async function writeReceiptsAndLines(
	trx: Trx,
	inserts: ReceiptInsert[],
	good: Array<NumberedRow<PosRow>>
): Promise<{ outcome: BatchOutcome; touched: number[] }> {
	// A fixed key order, so after-steps that meet on the same receipts (unsorted files) cannot deadlock.
	const created = await insertReceipts(trx, [...inserts].sort((a, b) => (a.pos_txn_id < b.pos_txn_id ? -1 : 1)));
	const idOf = new Map(created.map((r) => [r.pos_txn_id, r.id]));
	const existing = await findReceiptIds(trx, inserts.filter((r) => !idOf.has(r.pos_txn_id)).map((r) => r.pos_txn_id));
	for (const r of existing) idOf.set(r.pos_txn_id, r.id);
	const lines = good.map(({ row }) => ({
		purchase_id: idOf.get(posTxnId(row)) as number,
		line_no: row.line_no,
		sku: row.sku,
		quantity: row.quantity,
		unit_price_yen: row.unit_price_yen,
		amount_yen: row.amount_yen
	}));
	lines.sort((a, b) => a.purchase_id - b.purchase_id || a.line_no - b.line_no);
	const result = await insertReceiptLines(trx, lines, existing.map((r) => r.id));
	return {
		touched: result.touched,
		outcome: {
			bad: [],
			warnings: { unknown_sku: result.unknownSku },
			counts: { receipts_new: created.length, lines_new: result.inserted, lines_already_present: lines.length - result.inserted }
		}
	};
}

/** Store codes must exist; a receipt line number may appear once. */
function checkRows(rows: Array<NumberedRow<PosRow>>, ctx: WriterContext, outcome: ReturnType<typeof emptyOutcome>) {
	const seen = new Map<string, number>();
	return rows.filter(({ line, row }) => {
		if (!ctx.storeIds.has(row.store_code)) {
			outcome.bad.push({ line, reason: `unknown store_code "${row.store_code}"` });
			return false;
		}
		const key = `${posTxnId(row)}\u0000${row.line_no}`;
		const earlier = seen.get(key);
		if (earlier !== undefined) {
			outcome.bad.push({ line, reason: `line_no ${row.line_no} of receipt ${row.receipt_no} repeats line ${earlier}` });
			return false;
		}
		seen.set(key, line);
		return true;
	});
}

function groupReceipts(rows: Array<NumberedRow<PosRow>>): Array<{ txn: string; first: PosRow; lines: PosRow[] }> {
	const byTxn = new Map<string, { txn: string; first: PosRow; lines: PosRow[] }>();
	for (const { row } of rows) {
		const txn = posTxnId(row);
		const receipt = byTxn.get(txn);
		if (receipt) receipt.lines.push(row);
		else byTxn.set(txn, { txn, first: row, lines: [row] });
	}
	return [...byTxn.values()];
}
