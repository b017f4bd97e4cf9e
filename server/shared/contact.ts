/**
 * "A staff member contacted a customer": a follow-up was queued or a consultation recorded.
 * The modules that care (today's list marks items done) are handed in as hooks by
 * server/compose.ts; the follow-up and consultation routes call them after a new record.
 */
import type { Db } from '../db/index.ts';
import type { Logger } from '../logger.ts';

export interface ContactEvent {
	kind: 'followup' | 'consultation';
	customerId: string | null;
	staffId: string;
	storeId: string;
	/** the follow-up's or consultation's id */
	sourceId: string;
	templateKey?: string | null;
	at?: Date;
}

export type ContactHook = (db: Db, event: ContactEvent) => Promise<unknown>;

/** Runs every hook; a failing hook is logged, never fails the send or the record it follows. */
export async function notifyContact(hooks: readonly ContactHook[], db: Db, logger: Logger, event: ContactEvent): Promise<void> {
	for (const hook of hooks) {
		try {
			await hook(db, event);
		} catch (err) {
			logger.warn({ err: { message: (err as Error).message }, kind: event.kind }, 'contact hook failed');
		}
	}
}
