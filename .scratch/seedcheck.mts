import { openDatabase } from '../server/db/index.ts';
import { migrateToLatest } from '../server/db/migrate.ts';
import { seedDemo } from '../server/seed/seed.ts';
import { todayList } from '../server/modules/worklist/worklist.service.ts';
import { outcomes } from '../server/modules/worklist/outcomes.service.ts';
import { sql } from 'kysely';
const h = await openDatabase({ pgliteDir: 'memory://' });
await migrateToLatest(h.db);
let t = Date.now();
await seedDemo(h.db, { onProgress: (s) => { console.log(s, Date.now() - t); t = Date.now(); } });
const staff = await h.db.selectFrom('staff').selectAll().execute();
for (const s of staff) {
  const l = await todayList(h.db, { id: s.id, role: s.role, storeId: s.home_store_id!, deviceId: s.id, displayName: s.display_name }, { dormantDays: 180 });
  const g = l.groups;
  const reasons: Record<string, number> = {};
  for (const i of [...g.overdue, ...g.today, ...g.upcoming]) reasons[i.reason] = (reasons[i.reason] ?? 0) + 1;
  console.log(s.staff_code, s.role, 'overdue', g.overdue.length, 'today', g.today.length, 'upcoming', g.upcoming.length, 'done', g.done.length, JSON.stringify(reasons));
  if (s.staff_code === 'S003') for (const i of [...g.overdue, ...g.today, ...g.upcoming].slice(0, 12)) console.log('  ', i.group, i.customerName, i.sentence.ja);
}
const states = await sql`select reason, state, count(*)::int n from worklist_items group by 1,2 order by 1,2`.execute(h.db);
console.log(states.rows.map((r: any) => `${r.reason}/${r.state}=${r.n}`).join(' '));
const mgr = staff.find((s) => s.staff_code === 'S002')!;
const from = new Date(Date.now() - 35*86400000).toISOString().slice(0,10);
const o = await outcomes(h.db, { id: mgr.id, role: 'manager', storeId: 'shibuya', deviceId: mgr.id, displayName: '' }, { from, to: new Date().toISOString().slice(0,10) }, 30);
console.log(JSON.stringify(o.total), o.byStaff.map((r) => `${r.staffName ?? 'book'}:${r.items}/${r.done}/${r.contacted}/${r.bought}`).join(' '));
console.log(o.byReason.map((r) => `${r.reason}:${r.items}/${r.done}/${r.contacted}/${r.bought}`).join(' '));
await h.close();
