/**
 * Live conversation changes for the tablets' event streams. A change is announced with
 * PostgreSQL NOTIFY inside the transaction that made it (so it goes out on commit, and only
 * then), and every process LISTENs: a message received by one process reaches the streams held
 * by any other. On PostgreSQL the listener is one pool connection kept for it (re-opened after
 * a drop); on PGlite, its own listen/notify.
 */
import type pg from 'pg';
import type { DatabaseHandle } from '../../db/index.ts';
import type { Logger } from '../../logger.ts';

export const CONVERSATION_CHANNEL = 'tsunagu_conversations';

/** What a stream needs to decide whether its staff member cares (ids only: NOTIFY payloads are logged by nobody). */
export interface ConversationChange {
	conversationId: string;
	staffId: string | null;
	storeId: string | null;
	/** The previous owner, on a handover (their badge changes too). */
	previousStaffId?: string | null;
	previousStoreId?: string | null;
	kind: 'message' | 'read' | 'status' | 'handover' | 'sent';
}

export interface ConversationEvents {
	subscribe(listener: (change: ConversationChange) => void): () => void;
	readonly listeners: number;
	close(): Promise<void>;
}

export function parseChange(payload: string | undefined): ConversationChange | null {
	if (!payload) return null;
	try {
		const c = JSON.parse(payload) as ConversationChange;
		return typeof c.conversationId === 'string' ? c : null;
	} catch {
		return null;
	}
}

export async function startConversationEvents(handle: DatabaseHandle, logger: Logger): Promise<ConversationEvents> {
	const listeners = new Set<(change: ConversationChange) => void>();
	const dispatch = (payload: string | undefined) => {
		const change = parseChange(payload);
		if (!change) return;
		for (const l of listeners) {
			try {
				l(change);
			} catch (err) {
				logger.warn({ error: (err as Error).name }, 'conversation listener failed');
			}
		}
	};
	let stop: () => Promise<void>;
	if (handle.pool) stop = await listenOnPool(handle.pool, dispatch, logger);
	else if (handle.pglite) {
		const unsubscribe = await handle.pglite.listen(CONVERSATION_CHANNEL, dispatch);
		stop = async () => {
			if (!handle.pglite!.closed) await unsubscribe().catch(() => {});
		};
	} else stop = async () => {};
	return {
		subscribe(listener) {
			listeners.add(listener);
			return () => listeners.delete(listener);
		},
		get listeners() {
			return listeners.size;
		},
		close: () => stop()
	};
}

async function listenOnPool(pool: pg.Pool, dispatch: (payload: string | undefined) => void, logger: Logger): Promise<() => Promise<void>> {
	let closed = false;
	let client: { conn: pg.PoolClient; release: (broken: boolean) => void } | null = null;
	let retry: NodeJS.Timeout | undefined;
	const connect = async (): Promise<void> => {
		let c: pg.PoolClient | null = null;
		let released = false;
		let retrying = false;
		// one retry per attempt, whether the connection's 'error' or the failed LISTEN says so first
		const retryLater = () => {
			if (closed || retrying) return;
			retrying = true;
			retry = setTimeout(() => void connect(), 1000);
		};
		// A client goes back to the pool once: after close() released it, the server may still end
		// the connection (a dropped database, a restart) and its 'error' must not release it again.
		const giveBack = (conn: pg.PoolClient, broken: boolean) => {
			if (released) return;
			released = true;
			conn.release(broken);
		};
		try {
			const conn = await pool.connect();
			c = conn;
			conn.on('notification', (msg) => {
				if (msg.channel === CONVERSATION_CHANNEL) dispatch(msg.payload);
			});
			conn.on('error', () => {
				// the connection dropped: give it back broken and listen again on a fresh one
				giveBack(conn, true);
				if (client?.conn === conn) client = null;
				retryLater();
			});
			await conn.query(`listen ${CONVERSATION_CHANNEL}`);
			client = { conn, release: (broken) => giveBack(conn, broken) };
		} catch (err) {
			if (c) giveBack(c, true);
			logger.warn({ error: (err as Error).message }, 'conversation LISTEN failed; retrying');
			retryLater();
		}
	};
	await connect();
	return async () => {
		closed = true;
		clearTimeout(retry);
		const c = client;
		client = null;
		if (c) {
			await c.conn.query(`unlisten ${CONVERSATION_CHANNEL}`).catch(() => {});
			c.release(false);
		}
	};
}
