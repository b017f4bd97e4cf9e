/**
 * One outbox worker process for the two-process test and the outbox benchmark: runs
 * processOutboxBatch against DATABASE_URL and the LINE API at LINE_API_BASE until nothing is
 * queued or sending, then prints its counts as JSON on stdout.
 */
import { openDatabase } from '../../server/db/index.ts';
import { createMessagingClient } from '../../server/integrations/line/client.ts';
import { processOutboxBatch } from '../../server/modules/followups/outbox.ts';

const db = (await openDatabase({ url: process.env.DATABASE_URL!, poolSize: 8 })).db;
const client = createMessagingClient({ apiBase: process.env.LINE_API_BASE!, channelAccessToken: process.env.LINE_TOKEN! });
const ratePerSecond = Number(process.env.OUTBOX_RATE ?? 1800);
const totals = { claimed: 0, sent: 0, retried: 0, failed: 0, cancelled: 0 };
for (;;) {
	const r = await processOutboxBatch(db, client, { ratePerSecond, batchSize: Number(process.env.OUTBOX_BATCH ?? 100) });
	for (const k of Object.keys(totals) as Array<keyof typeof totals>) totals[k] += r[k];
	if (r.claimed > 0) continue;
	if (r.throttled) {
		await new Promise((res) => setTimeout(res, 20));
		continue;
	}
	const open = await db
		.selectFrom('follow_ups')
		.select((eb) => eb.fn.countAll<number>().as('n'))
		.where('status', 'in', ['queued', 'sending'])
		.executeTakeFirstOrThrow();
	if (Number(open.n) === 0) break;
	// retries are waiting for their backoff
	await new Promise((res) => setTimeout(res, 50));
}
process.stdout.write(JSON.stringify(totals) + '\n');
await db.destroy();
