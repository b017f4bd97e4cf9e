/**
 * Factories for the report suites: follow-ups, tracked links, clicks and attributions with
 * explicit times, so expected figures can be computed by hand.
 */
import { randomUUID } from 'node:crypto';
import type { DbOrTrx } from '../../server/db/index.ts';
import type { FollowUpStatus } from '../../server/db/types.ts';
import { signSession } from '../../server/modules/staff/tokens.ts';

export async function newFollowUp(
	db: DbOrTrx,
	v: { customerId: string; staffId: string; storeId: string; status: FollowUpStatus; createdAt: Date; body?: string }
) {
	return db
		.insertInto('follow_ups')
		.values({
			customer_id: v.customerId,
			staff_id: v.staffId,
			store_id: v.storeId,
			body: v.body ?? 'こんにちは、先日はありがとうございました。新作のご案内です。',
			messages: JSON.stringify([]),
			status: v.status,
			created_at: v.createdAt,
			sent_at: v.status === 'sent' ? v.createdAt : null
		})
		.returningAll()
		.executeTakeFirstOrThrow();
}

export async function newLink(db: DbOrTrx, v: { code: string; staffId: string; storeId: string; followUpId?: string | null; customerId?: string | null }) {
	return db
		.insertInto('tracked_links')
		.values({
			code: v.code,
			follow_up_id: v.followUpId ?? null,
			staff_id: v.staffId,
			store_id: v.storeId,
			customer_id: v.customerId ?? null,
			target_url: `https://shop.example.jp/products/${v.code}`
		})
		.returningAll()
		.executeTakeFirstOrThrow();
}

export async function newClick(db: DbOrTrx, v: { code: string; at: Date; clickId?: string; customerId?: string | null }) {
	return db
		.insertInto('link_clicks')
		.values({ click_id: v.clickId ?? randomUUID(), code: v.code, customer_id: v.customerId ?? null, clicked_at: v.at })
		.returningAll()
		.executeTakeFirstOrThrow();
}

let orderNo = 0;

export async function newAttribution(
	db: DbOrTrx,
	v: {
		staffId: string;
		storeId: string;
		at: Date;
		grossYen: number;
		refundedYen?: number;
		rule?: 'ref' | 'last_touch';
		status?: 'active' | 'void';
		linkCode?: string | null;
		clickId?: string | null;
		followUpId?: string | null;
		customerId?: string | null;
		ecOrderId?: string;
	}
) {
	return db
		.insertInto('attributions')
		.values({
			ec_order_id: v.ecOrderId ?? `A${Date.now().toString(36)}${++orderNo}`,
			staff_id: v.staffId,
			store_id: v.storeId,
			customer_id: v.customerId ?? null,
			rule: v.rule ?? 'ref',
			link_code: v.linkCode ?? null,
			click_id: v.clickId ?? null,
			follow_up_id: v.followUpId ?? null,
			status: v.status ?? 'active',
			ordered_at: v.at,
			gross_yen: v.grossYen,
			refunded_yen: v.refundedYen ?? 0
		})
		.returningAll()
		.executeTakeFirstOrThrow();
}

/** A device row and a signed session for a staff member, without the PIN round trip. */
export async function sessionFor(
	db: DbOrTrx,
	secret: string,
	staff: { id: string; role: 'staff' | 'manager' | 'admin' },
	storeId: string
): Promise<string> {
	const device = await db
		.insertInto('devices')
		.values({ store_id: storeId, name: 'test tablet', secret_hash: 'x'.repeat(64) })
		.returning('id')
		.executeTakeFirstOrThrow();
	const { token } = await signSession(secret, { staffId: staff.id, role: staff.role, deviceId: device.id, storeId });
	return token;
}
