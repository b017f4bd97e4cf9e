/**
 * The LINE inbox handler applies a claimed batch set-based (`handleLineInboxRow.batch`); it must
 * leave exactly the state that processing the same rows one by one (one transaction each) does:
 * routing (owner, last sender, home store, brand queue, a reopened conversation), not-yet-members,
 * every message type, out-of-order events, redeliveries, follow/unfollow — and the same
 * announcements to the event streams.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { startConversationEvents, type ConversationChange } from '../../server/modules/conversations/events.ts';
import { queueConversationPush } from '../../server/modules/followups/followups.service.ts';
import { handleLineInboxRow } from '../../server/modules/line/line.service.ts';
import type { InboxRow } from '../../server/modules/webhooks/inbox.service.ts';
import { createLogger } from '../../server/logger.ts';
import { createTestDatabase, testDbKinds, type TestDatabase } from '../helpers/db.ts';
import { newCustomer, newStaff, newStore } from '../helpers/factories.ts';

const T0 = Date.parse('2026-12-01T01:00:00Z');
const userOf = (name: string) => `U${Buffer.from(name).toString('hex').padEnd(32, '0').slice(0, 32)}`;

/** The same people in each database, with fixed ids so two databases can be compared row by row. */
async function seed(db: TestDatabase['db']) {
	await newStore(db, { id: 'shibuya', name: '渋谷店' });
	await newStore(db, { id: 'ginza', name: '銀座店' });
	const staff: Record<string, string> = {};
	for (const [code, store] of [['tanaka', 'shibuya'], ['suzuki', 'shibuya'], ['sato', 'ginza']] as const) {
		staff[code] = (await newStaff(db, { storeId: store, pin: null, display_name: code, staff_code: code })).id;
	}
	await db.updateTable('staff').set({ active: false }).where('id', '=', staff.sato).execute();
	const customer = async (name: string, values: { home?: string | null; owner?: string }) => {
		const c = await newCustomer(db, { member_no: name, line_user_id: userOf(name), line_friend: true, home_store_id: values.home ?? undefined });
		if (values.owner) await db.updateTable('customers').set({ owner_staff_id: values.owner }).where('id', '=', c.id).execute();
		return c.id;
	};
	const owned = await customer('owned', { home: 'shibuya', owner: staff.tanaka });
	await customer('homeonly', { home: 'ginza' });
	await customer('nostore', {});
	await customer('leftowner', { home: 'ginza', owner: staff.sato });
	const followedUp = await customer('followedup', { home: 'ginza', owner: staff.tanaka });
	await queueConversationPush(db, { id: randomUUID(), customerId: followedUp, staffId: staff.suzuki, storeId: 'shibuya', body: 'こんにちは', messages: [] });
	// a closed conversation with nothing unread: the next message routes it again (to the owner)
	await db
		.insertInto('conversations')
		.values({ line_user_id: userOf('owned'), customer_id: owned, assigned_staff_id: null, store_id: 'ginza', status: 'done', unread_count: 0, last_message_at: new Date(T0 - 86_400_000), last_message_preview: '前回' })
		.execute();
	return staff;
}

let seq = 0;
function message(name: string, at: number, type = 'text', text = `${name} ${at}`) {
	const bodies: Record<string, Record<string, unknown>> = {
		text: { type: 'text', text },
		sticker: { type: 'sticker', packageId: '446', stickerId: '1988' },
		image: { type: 'image' },
		location: { type: 'location', title: '渋谷店', address: '東京都渋谷区', latitude: 35.6, longitude: 139.7 },
		mystery: { type: 'mystery' }
	};
	return {
		type: 'message',
		mode: 'active',
		timestamp: T0 + at,
		source: { type: 'user', userId: userOf(name) },
		webhookEventId: `01EV${String(++seq).padStart(6, '0')}`,
		deliveryContext: { isRedelivery: false },
		replyToken: `rt${seq}`,
		message: { id: `m${seq}`, quoteToken: 'q', markAsReadToken: `mr${seq}`, ...bodies[type] }
	};
}
const status = (name: string, type: 'follow' | 'unfollow', at: number) => ({
	type,
	mode: 'active',
	timestamp: T0 + at,
	source: { type: 'user', userId: userOf(name) },
	webhookEventId: `01EV${String(++seq).padStart(6, '0')}`,
	deliveryContext: { isRedelivery: false },
	...(type === 'follow' ? { replyToken: `rt${seq}`, follow: { isUnblocked: true } } : {})
});

const rowsOf = (events: Array<Record<string, unknown>>, firstId: number): InboxRow[] =>
	events.map((payload, i) => ({ id: firstId + i, source: 'line', external_id: String(payload.webhookEventId), topic: String(payload.type), payload, attempts: 1 }));

/** What the handler leaves, without generated ids and clocks. */
async function snapshot(db: TestDatabase['db']) {
	const conversations = await sql<Record<string, unknown>>`
		select c.line_user_id, cu.member_no, s.staff_code, c.store_id, c.status, c.unread_count, c.last_message_at, c.last_message_preview, c.last_inbound_at, c.display_name
		from conversations c left join customers cu on cu.id = c.customer_id left join staff s on s.id = c.assigned_staff_id
		order by c.line_user_id`.execute(db);
	const messages = await sql<Record<string, unknown>>`
		select c.line_user_id, m.direction, m.kind, m.text, m.details, m.webhook_event_id, m.reply_token, m.reply_token_at, m.mark_as_read_token, m.occurred_at
		from conversation_messages m join conversations c on c.id = m.conversation_id
		order by m.webhook_event_id`.execute(db);
	const lineEvents = await sql<Record<string, unknown>>`
		select e.webhook_event_id, e.line_user_id, cu.member_no, e.type, e.message_text, e.occurred_at
		from line_events e left join customers cu on cu.id = e.customer_id order by e.webhook_event_id`.execute(db);
	const customers = await sql<Record<string, unknown>>`select member_no, line_friend, line_blocked_at, line_status_changed_at from customers order by member_no`.execute(db);
	return { conversations: conversations.rows, messages: messages.rows, lineEvents: lineEvents.rows, customers: customers.rows };
}

describe.each(testDbKinds())('LINE inbox batch on %s', (kind) => {
	const open: TestDatabase[] = [];
	afterEach(async () => {
		for (const d of open.splice(0)) await d.dispose();
	});

	/** Applies the rounds either as one batch each or one row per transaction; returns the state and the announcements. */
	async function run(rounds: Array<Array<Record<string, unknown>>>, mode: 'batch' | 'one-by-one') {
		const database = await createTestDatabase(kind);
		open.push(database);
		const staff = await seed(database.db);
		const events = await startConversationEvents(database, createLogger('silent'));
		const heard: ConversationChange[] = [];
		const stop = events.subscribe((c) => heard.push(c));
		let id = 1;
		for (const round of rounds) {
			const rows = rowsOf(round, id);
			id += rows.length;
			if (mode === 'batch') await database.db.transaction().execute((trx) => handleLineInboxRow.batch!(trx, rows));
			else for (const row of rows) await database.db.transaction().execute((trx) => handleLineInboxRow(trx, row));
		}
		await new Promise((r) => setTimeout(r, 300)); // notifications arrive after commit
		stop();
		await events.close();
		const codeOf = new Map(Object.entries(staff).map(([code, sid]) => [sid, code]));
		const lineUserOf = new Map((await database.db.selectFrom('conversations').select(['id', 'line_user_id']).execute()).map((c) => [c.id, c.line_user_id]));
		const announced = [...new Set(heard.map((c) => `${lineUserOf.get(c.conversationId)} ${c.kind} ${codeOf.get(c.staffId!) ?? '-'} ${c.storeId ?? '-'}`))].sort();
		return { state: await snapshot(database.db), announced };
	}

	it('leaves the same state and announcements as one row per transaction', async () => {
		seq = 0;
		const first = [
			message('owned', 5_000),
			message('owned', 2_000, 'sticker'), // older, arrives later: the preview stays on the newest
			message('homeonly', 1_000, 'image'),
			message('nostore', 1_000, 'location'),
			message('leftowner', 1_000, 'mystery'), // the 担当 left: the home store's queue
			message('followedup', 1_000), // the last follow-up's sender wins over the owner
			message('stranger', 3_000, 'text', 'はじめまして'), // not a member: the brand queue
			message('stranger', 3_000, 'text', '同じ時刻'), // a tie: the later one shows, as one by one
			status('homeonly', 'unfollow', 4_000),
			status('homeonly', 'follow', 3_500) // older than the unfollow: ignored
		];
		const redelivered = [first[0], first[6], first[8]];
		const second = [...redelivered, message('owned', 6_000), message('nostore', 500, 'text', '古い')];
		const batch = await run([first, second], 'batch');
		seq = 0;
		const single = await run([first, second], 'one-by-one');
		expect(batch.state).toEqual(single.state);
		expect(batch.announced).toEqual(single.announced);

		// and the state is the intended one, not merely the same wrong one
		const byUser = new Map(batch.state.conversations.map((c) => [c.line_user_id, c]));
		expect(byUser.get(userOf('owned'))).toMatchObject({ staff_code: 'tanaka', store_id: 'shibuya', status: 'open', unread_count: 3, last_message_preview: `owned ${6_000}` });
		expect(byUser.get(userOf('homeonly'))).toMatchObject({ staff_code: null, store_id: 'ginza', unread_count: 1, last_message_preview: '画像' });
		expect(byUser.get(userOf('nostore'))).toMatchObject({ staff_code: null, store_id: null, unread_count: 2, last_message_preview: '位置情報: 渋谷店' });
		expect(byUser.get(userOf('leftowner'))).toMatchObject({ staff_code: null, store_id: 'ginza' });
		expect(byUser.get(userOf('followedup'))).toMatchObject({ staff_code: 'suzuki', store_id: 'shibuya' });
		expect(byUser.get(userOf('stranger'))).toMatchObject({ member_no: null, staff_code: null, store_id: null, unread_count: 2, last_message_preview: '同じ時刻' });
		expect(batch.state.messages).toHaveLength(10);
		expect(batch.state.lineEvents).toHaveLength(12);
		expect(batch.state.customers.find((c) => c.member_no === 'homeonly')).toMatchObject({ line_friend: false });
		expect(batch.announced).toContain(`${userOf('owned')} message tanaka shibuya`);
	});
});
