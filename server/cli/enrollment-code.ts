/**
 * `npm run enrollment-code -- <storeId> <staffCode>`: issues a one-time tablet enrollment code
 * for a store on behalf of an admin (or that store's manager). For the first tablet of a brand,
 * when no manager is signed in anywhere yet; afterwards managers issue codes from a tablet
 * (POST /api/devices/enrollment-codes). Whoever runs this has the server's database already.
 */
import { loadConfig } from '../config.ts';
import { openDatabase } from '../db/index.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { findStaffByCode } from '../modules/staff/staff.repository.ts';
import { issueEnrollmentCode } from '../modules/staff/staff.service.ts';

const [storeId, staffCode] = process.argv.slice(2);
if (!storeId || !staffCode) {
	console.error('usage: npm run enrollment-code -- <storeId> <admin or manager staff code>');
	process.exit(2);
}
const config = loadConfig();
const handle = await openDatabase({ url: config.database.url, pgliteDir: config.database.pgliteDir });
try {
	await migrateToLatest(handle.db);
	const staff = await findStaffByCode(handle.db, staffCode);
	if (!staff) throw new Error(`No staff member with code ${staffCode}`);
	const issued = await issueEnrollmentCode(handle.db, { id: staff.id, deviceId: null }, storeId);
	console.log(`Enrollment code for store ${issued.storeId}: ${issued.code} (valid once, until ${issued.expiresAt})`);
} catch (err) {
	console.error((err as Error).message);
	process.exitCode = 1;
} finally {
	await handle.close();
}
