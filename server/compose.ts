/**
 * The module graph, wired explicitly: which module hears about which. runtime.ts builds the
 * server from it, and the import CLI (server/cli/import.ts) uses it without loading the HTTP app,
 * so a CSV import runs the very same hooks as the webhooks.
 */
import type { Config } from './config.ts';
import { createAttribution } from './modules/attribution/attribution.service.ts';
import { onConsultation, onStoreSales } from './modules/clientbook/clientbook.service.ts';
import type { ConsultationHook } from './modules/consultations/consultations.service.ts';
import type { StoreSalesHook } from './ingest/import.ts';
import { createOrders, type Orders } from './modules/orders/orders.service.ts';
import { createWorklist, type Worklist } from './modules/worklist/worklist.service.ts';
import type { ContactHook } from './shared/contact.ts';
import { DEFAULT_DORMANT_DAYS } from './modules/customers/state.ts';
import { onOrdersChange as matchOnOrdersChange } from './modules/identity/identity.service.ts';

/** The modules that are composed from others, wired here and nowhere else. */
export interface Modules {
	orders: Orders;
	/** Run after a consultation is recorded (not on a replay): the client book's first-contact rule. */
	consultationHooks: ConsultationHook[];
	/** Run after a POS import with the receipts it added: the client book's first-sale rule. */
	storeSaleHooks: StoreSalesHook[];
	/** Today's list (今日の連絡): building, state changes, auto-done. */
	worklist: Worklist;
	/** Who hears that a staff member contacted a customer (follow-up queued, consultation recorded). */
	contactHooks: ContactHook[];
}

/**
 * Explicit wiring: every EC order change (webhook or CSV import) runs attribution in its
 * transaction, then the identity matcher (it reads the attribution: a purchase through a link
 * sent to another customer is merge evidence; the order's new customer is matched at once); a
 * new consultation and a POS import's new sale receipts run the client book's first-contact rule
 * (propose or make the staff member 担当, brand setting `clientBook.firstContactOwner`); a
 * follow-up or a consultation marks today's list items done (contactHooks). The server and the
 * import CLI both build their modules here.
 */
export function composeModules(config: Pick<Config, 'attributionWindowDays'> & Partial<Pick<Config, 'dormantDays'>>): Modules {
	const attribution = createAttribution({ windowDays: config.attributionWindowDays });
	const orders = createOrders({ onChange: [attribution.onOrdersChange, matchOnOrdersChange] });
	// a follow-up sent or a consultation recorded completes the staff member's list items
	const worklist = createWorklist({ dormantDays: config.dormantDays ?? DEFAULT_DORMANT_DAYS });
	return { orders, consultationHooks: [onConsultation], storeSaleHooks: [onStoreSales], worklist, contactHooks: [worklist.onContact] };
}
