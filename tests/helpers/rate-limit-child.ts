/**
 * A separate process hammering one shared rate limit (the two-process test in
 * tests/integration/rate-limit.test.ts). Args: database url, key subject, requests.
 * Prints `ready`, waits for a line on stdin (so both processes start together), then prints `{"allowed": n}`.
 */
import { openDatabase } from '../../server/db/index.ts';
import { take } from '../../server/modules/ratelimit/rate-limit.service.ts';
import { TWO_PROCESS_POLICY } from './rate-limit-policy.ts';

const [url, subject, requests] = process.argv.slice(2);
const handle = await openDatabase({ url, poolSize: 8 });
await handle.db.selectFrom('rate_limits').select('key').limit(1).execute(); // connected and warm
process.stdout.write('ready\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
process.stdin.pause();
const results = await Promise.all(Array.from({ length: Number(requests) }, () => take(handle.db, TWO_PROCESS_POLICY, subject)));
process.stdout.write(JSON.stringify({ allowed: results.filter((r) => r.allowed).length }) + '\n');
await handle.close();
