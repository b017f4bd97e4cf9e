/**
 * A second server process for the multi-process conversation test: opens the same PostgreSQL
 * database, receives one signed LINE webhook and processes it (the message NOTIFY goes out on
 * commit), then exits. Usage: node --import tsx tests/helpers/conversation-writer.ts <url> <lineUserId> <text>
 */
import { loadConfig } from '../../server/config.ts';
import { createLogger } from '../../server/logger.ts';
import { handleLineInboxRow } from '../../server/modules/line/line.service.ts';
import { processInboxBatch } from '../../server/modules/webhooks/inbox.service.ts';
import { createRuntime } from '../../server/runtime.ts';
import { signLikeLine } from '../../server/sandbox/line/platform.ts';

const [url, userId, text] = process.argv.slice(2);
const rt = await createRuntime(loadConfig({ TSUNAGU_MODE: 'test', LOG_LEVEL: 'silent', WORKERS: 'false', DATABASE_URL: url, DATABASE_POOL_SIZE: '2' }), {
	logger: createLogger('silent')
});
const body = JSON.stringify({
	destination: 'Ubot',
	events: [
		{
			type: 'message',
			mode: 'active',
			timestamp: Date.now(),
			source: { type: 'user', userId },
			webhookEventId: `01MP${Date.now()}${Math.floor(Math.random() * 1e6)}`,
			deliveryContext: { isRedelivery: false },
			replyToken: 'r'.repeat(32),
			message: { id: '1', type: 'text', quoteToken: 'q', text }
		}
	]
});
const res = await rt.app.request('/webhooks/line', {
	method: 'POST',
	headers: { 'content-type': 'application/json', 'x-line-signature': signLikeLine(body, rt.config.line.channelSecret) },
	body
});
await processInboxBatch(rt.deps.db, { line: handleLineInboxRow });
process.stdout.write(JSON.stringify({ status: res.status, pid: process.pid }));
await rt.close();
