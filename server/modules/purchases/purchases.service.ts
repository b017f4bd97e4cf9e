/**
 * Store purchases (POS receipts and their lines): the module that owns store_purchases and
 * store_purchase_lines. The CSV import writes them through the batch writer (receipts.writer.ts)
 * or, on PostgreSQL, the COPY writer (copy.writer.ts); merges move them through
 * reassignStorePurchases.
 */
export { canSkipPurchaseFkTriggers, lastStorePurchaseId } from './purchases.repository.ts';

/** Merge support: the owning repository's "reassign customer" function (server/modules/identity/merge.service.ts). */
export { reassignStorePurchases } from './purchases.repository.ts';
