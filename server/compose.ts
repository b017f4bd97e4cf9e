/**
 * The module graph, wired explicitly: which module hears about which. runtime.ts builds the
 * server from it, and the import CLI (server/cli/import.ts) uses it without loading the HTTP app,
 * so a CSV import runs the very same hooks as the webhooks.
 */
import type { Config } from './config.ts';
import { createAttribution } from './modules/attribution/attribution.service.ts';
import { onConsultation, onStoreSales } from './modules/clientbook/clientbook.service.ts';
import type { ConsultationHook } from './modules/consultations/consultations.service.ts';
import type { StoreSalesHook } from './modules/ingest/ingest.service.ts';
import { createOrders, type Orders } from './modules/orders/orders.service.ts';

/** The modules that are composed from others, wired here and nowhere else. */
export interface Modules {
	orders: Orders;
	/** Run after a consultation is recorded (not on a replay): the client book's first-contact rule. */
	consultationHooks: ConsultationHook[];
	/** Run after a POS import with the receipts it added: the client book's first-sale rule. */
	storeSaleHooks: StoreSalesHook[];
}

/**
 * Explicit wiring: every EC order change (webhook or CSV import) runs attribution in its
 * transaction; a new consultation and a POS import's new sale receipts run the client book's
 * first-contact rule (propose or make the staff member 担当, brand setting
 * `clientBook.firstContactOwner`). The server and the import CLI both build their modules here.
 */
export function composeModules(config: Pick<Config, 'attributionWindowDays'>): Modules {
	const attribution = createAttribution({ windowDays: config.attributionWindowDays });
	const orders = createOrders({ onChange: [attribution.onOrdersChange] });
	return { orders, consultationHooks: [onConsultation], storeSaleHooks: [onStoreSales] };
}
