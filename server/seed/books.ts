/**
 * Demo client books (issue 11 §1): every demo staff member owns part of their store's customers
 * (about 100–200 each with the default 2,000 customers), dealt round-robin in member-number
 * order; every tenth customer stays in the store book so there is something to claim. The
 * featured members (fixtures.ts: 山田 花子 …) stay unowned: the e2e suite routes their LINE
 * messages to the store queue.
 * Written through the client book service (owner column via customers, audit reason 'seed').
 */
import { sql } from 'kysely';
import type { Trx } from '../db/index.ts';
import { seedOwners } from '../modules/clientbook/clientbook.service.ts';
import { FEATURED_MEMBERS } from './fixtures.ts';

const STORE_BOOK_EVERY = 10;

export async function assignDemoBooks(trx: Trx): Promise<number> {
	const { rows: customers } = await sql<{ id: string; home_store_id: string; member_no: string }>`
		select id, home_store_id, member_no from customers
		where home_store_id is not null and merged_into is null and owner_staff_id is null
		order by member_no`.execute(trx);
	const { rows: staff } = await sql<{ id: string; home_store_id: string }>`
		select id, home_store_id from staff where active and home_store_id is not null order by staff_code`.execute(trx);
	const books = new Map(staff.map((s) => [s.id, [] as string[]]));
	const byStore = new Map<string, string[]>();
	for (const s of staff) byStore.set(s.home_store_id, [...(byStore.get(s.home_store_id) ?? []), s.id]);
	const seen = new Map<string, number>();
	const dealt = new Map<string, number>();
	const featured = new Set(FEATURED_MEMBERS.map((m) => m.member_no));
	for (const c of customers) {
		if (featured.has(c.member_no)) continue;
		const team = byStore.get(c.home_store_id);
		if (!team) continue;
		const n = seen.get(c.home_store_id) ?? 0;
		seen.set(c.home_store_id, n + 1);
		if (n % STORE_BOOK_EVERY === STORE_BOOK_EVERY - 1) continue;
		const d = dealt.get(c.home_store_id) ?? 0;
		dealt.set(c.home_store_id, d + 1);
		books.get(team[d % team.length])!.push(c.id);
	}
	return seedOwners(trx, [...books].map(([staffId, customerIds]) => ({ staffId, customerIds })));
}
