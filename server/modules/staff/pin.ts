/**
 * Staff PINs: 4–8 digits, stored as scrypt hashes with a per-PIN salt. A PIN is short, so the
 * real protection is the server-side throttle; the hash only keeps a leaked table from
 * handing out PINs directly.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number, opts: object) => Promise<Buffer>;
const PARAMS = { N: 16384, r: 8, p: 1 };
const KEY_LEN = 32;

export const PIN_PATTERN = /^\d{4,8}$/;

export async function hashPin(pin: string): Promise<string> {
	if (!PIN_PATTERN.test(pin)) throw new Error('PIN must be 4 to 8 digits');
	const salt = randomBytes(16);
	const key = await scrypt(pin, salt, KEY_LEN, PARAMS);
	return `scrypt$${PARAMS.N}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPin(pin: string, stored: string): Promise<boolean> {
	const [scheme, n, saltB64, keyB64] = stored.split('$');
	if (scheme !== 'scrypt' || !saltB64 || !keyB64) return false;
	const expected = Buffer.from(keyB64, 'base64');
	const key = await scrypt(pin, Buffer.from(saltB64, 'base64'), expected.length, { ...PARAMS, N: Number(n) });
	return timingSafeEqual(key, expected);
}
