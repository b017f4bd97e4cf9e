/**
 * The module graph, wired explicitly: which module hears about which. runtime.ts builds the
 * server from it, and the import CLI (server/cli/import.ts) uses it without loading the HTTP app,
 * so a CSV import runs the very same hooks as the webhooks.
 */
import type { Config } from './config.ts';
import { createAttribution } from './modules/attribution/attribution.service.ts';
import { createOrders, type Orders } from './modules/orders/orders.service.ts';
import { onOrdersChange as matchOnOrdersChange } from './modules/identity/identity.service.ts';

/** The modules that are composed from others, wired here and nowhere else. */
export interface Modules {
	orders: Orders;
}

/**
 * Explicit wiring: every EC order change (webhook or CSV import) runs attribution in its
 * transaction, then the identity matcher (it reads the attribution: a purchase through a link
 * sent to another customer is merge evidence; the order's new customer is matched at once).
 * The server and the import CLI both build their modules here.
 */
export function composeModules(config: Pick<Config, 'attributionWindowDays'>): Modules {
	const attribution = createAttribution({ windowDays: config.attributionWindowDays });
	const orders = createOrders({ onChange: [attribution.onOrdersChange, matchOnOrdersChange] });
	return { orders };
}

