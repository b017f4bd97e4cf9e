/**
 * The LINE Platform sandbox in a process of its own (for the chaos run): the server pushes to it
 * over HTTP, so killing the server cannot take the sandbox's memory of accepted retry keys with
 * it. Prints `{"port": N}` once listening; GET /_sandbox/stats gives acceptedByRetryKey.
 */
import { startLineSandbox } from '../../server/sandbox/line/server.ts';
import { DEMO_SECRETS } from '../../server/config.ts';

const sandbox = await startLineSandbox({
	port: 0,
	channelAccessToken: DEMO_SECRETS.lineChannelAccessToken,
	channelSecret: DEMO_SECRETS.lineChannelSecret,
	loginChannelId: DEMO_SECRETS.lineLoginChannelId,
	deliverWebhook: async () => ({ status: 200, body: '{}' })
});
process.stdout.write(`${JSON.stringify({ port: sandbox.port })}\n`);
// the server is unref'd: keep this process alive until the chaos run kills it
setInterval(() => {}, 1 << 30);
