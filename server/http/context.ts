import type { Logger } from '../logger.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/index.ts';
import type { ConversationEvents } from '../modules/conversations/events.ts';
import type { Wakeups } from '../jobs/wakeups.ts';
import type { LinkState } from '../modules/links/links.service.ts';
import type { Orders } from '../modules/orders/orders.service.ts';
import type { ConsultationHook } from '../modules/consultations/consultations.service.ts';
import type { StoreSalesHook } from '../ingest/import.ts';
import type { Worklist } from '../modules/worklist/worklist.service.ts';
import type { ContactHook } from '../shared/contact.ts';

/** Everything a request handler may use; built once in main.ts (or a test) and passed in. */
export interface AppDeps {
	config: Config;
	db: Db;
	/**
	 * For background rebuilds that legitimately run longer than a request may (a full rollup or
	 * customer-facts build, the daily affinity refresh at 1,000,000 customers): its own small pool
	 * with long timeouts on PostgreSQL; the same database as `db` on PGlite.
	 */
	maintenanceDb: Db;
	logger: Logger;
	/** Live conversation changes from every process (LISTEN/NOTIFY), for the tablets' event streams. */
	conversationEvents: ConversationEvents;
	/** The clock of rules that tests move (conversation reply windows); Date.now in production. */
	now?: () => Date;
	/** EC orders with their change hooks (attribution), composed in runtime.ts (`composeModules`). */
	orders: Orders;
	/** Run after a new consultation (compose.ts): the client book's first-contact rule. */
	consultationHooks: ConsultationHook[];
	/** Run after a POS import (compose.ts); unused by HTTP today, kept with the other composed modules. */
	storeSaleHooks: StoreSalesHook[];
	/** Today's list, composed in compose.ts. */
	worklist: Worklist;
	/** Run after a follow-up is queued or a consultation recorded (compose.ts: the worklist's auto-done). */
	contactHooks: ContactHook[];
	/** Pokes this process's workers when work was stored (runtime.ts attaches the running workers). */
	wake: Wakeups;
	/** The redirect's link cache and click buffer (links.service.ts `createLinkState`). */
	links: LinkState;
}

/** Who is calling: a staff session on an enrolled store tablet. */
export interface StaffPrincipal {
	id: string;
	role: 'staff' | 'manager' | 'admin';
	storeId: string;
	deviceId: string;
	displayName: string;
}

export interface AppEnv {
	Variables: {
		requestId: string;
		log: Logger;
		/** The signed-in staff member, set by requireStaff() (server/modules/staff/auth.middleware.ts). */
		staff?: StaffPrincipal;
	};
}
