import type { Logger } from '../logger.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/index.ts';
import type { ConversationEvents } from '../modules/conversations/events.ts';

/** Everything a request handler may use; built once in main.ts (or a test) and passed in. */
export interface AppDeps {
	config: Config;
	db: Db;
	logger: Logger;
	/** Live conversation changes from every process (LISTEN/NOTIFY), for the tablets' event streams. */
	conversationEvents: ConversationEvents;
	/** The clock of rules that tests move (conversation reply windows); Date.now in production. */
	now?: () => Date;
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
