import { describe, expect, it } from 'vitest';
import { chooseDelivery, deliveryLabel, monthStartJst, projectMonthEnd, pushesStopped, routeMessage, type RoutingFacts } from '../../server/modules/conversations/rules.ts';
import { readInboundContent } from '../../server/integrations/line/message-content.ts';

const NOW = new Date('2026-12-04T10:00:00Z');
const daysAgo = (n: number) => new Date(NOW.getTime() - n * 86_400_000);
const member = (f: Partial<RoutingFacts>): RoutingFacts => ({ lastSender: null, owner: null, homeStoreId: null, isMember: true, ...f });

describe('routing a customer message', () => {
	it('goes to the staff member who messaged the customer within the window', () => {
		const r = routeMessage(member({ lastSender: { staffId: 's1', storeId: 'shibuya', at: daysAgo(29), active: true }, owner: { staffId: 'o1', storeId: 'ginza', active: true }, homeStoreId: 'ginza' }), NOW, 30);
		expect(r).toEqual({ to: 'staff', staffId: 's1', storeId: 'shibuya', why: 'last_sender' });
	});
	it('falls to the owner when the last message is older than the window, or its sender left', () => {
		const owner = { staffId: 'o1', storeId: 'ginza', active: true };
		expect(routeMessage(member({ lastSender: { staffId: 's1', storeId: 'shibuya', at: daysAgo(31), active: true }, owner }), NOW, 30)).toMatchObject({ staffId: 'o1', why: 'owner' });
		expect(routeMessage(member({ lastSender: { staffId: 's1', storeId: 'shibuya', at: daysAgo(1), active: false }, owner }), NOW, 30)).toMatchObject({ staffId: 'o1', why: 'owner' });
		// a brand setting of 60 days keeps the 31-day-old sender
		expect(routeMessage(member({ lastSender: { staffId: 's1', storeId: 'shibuya', at: daysAgo(31), active: true }, owner }), NOW, 60)).toMatchObject({ staffId: 's1' });
	});
	it('then the home store queue, then the brand queue', () => {
		expect(routeMessage(member({ owner: { staffId: 'o1', storeId: null, active: false }, homeStoreId: 'ginza' }), NOW, 30)).toEqual({ to: 'store', storeId: 'ginza', why: 'home_store' });
		expect(routeMessage(member({}), NOW, 30)).toEqual({ to: 'brand', why: 'no_store' });
	});
	it('sends a LINE user who is not a member to the brand queue', () => {
		expect(routeMessage({ lastSender: null, owner: null, homeStoreId: null, isMember: false }, NOW, 30)).toEqual({ to: 'brand', why: 'not_member' });
	});
});

describe('reply or push', () => {
	const at = (secondsAgo: number) => new Date(NOW.getTime() - secondsAgo * 1000);
	it('replies free while the token is fresh and unused, counting down', () => {
		expect(chooseDelivery({ at: at(15), used: false }, NOW, 50)).toEqual({ delivery: 'reply', secondsLeft: 35 });
		expect(deliveryLabel({ delivery: 'reply', secondsLeft: 35 })).toBe('無料で返信できます（残り 35 秒）');
	});
	it('pushes once the window is over, the token used, or there is none', () => {
		expect(chooseDelivery({ at: at(50), used: false }, NOW, 50)).toEqual({ delivery: 'push', reason: 'token_expired' });
		expect(chooseDelivery({ at: at(1), used: true }, NOW, 50)).toEqual({ delivery: 'push', reason: 'token_used' });
		expect(chooseDelivery(null, NOW, 50)).toEqual({ delivery: 'push', reason: 'no_token' });
		expect(deliveryLabel({ delivery: 'push', reason: 'no_token' })).toBe('通常メッセージとして送信（月間通数を消費）');
	});
});

describe('quota', () => {
	it('stops personal pushes at the cap share; unlimited plans never stop', () => {
		expect(pushesStopped({ limit: 200, used: 189 }, 0.95)).toBe(false);
		expect(pushesStopped({ limit: 200, used: 190 }, 0.95)).toBe(true);
		expect(pushesStopped({ limit: null, used: 1_000_000 }, 0.95)).toBe(false);
	});
	it('projects usage to the end of the JST month', () => {
		// 3.5 days into December (JST: Dec 1 00:00 = Nov 30 15:00 UTC), 700 used → 31 days ≈ 6,200
		const now = new Date('2026-12-04T03:00:00Z');
		expect(monthStartJst(now).toISOString()).toBe('2026-11-30T15:00:00.000Z');
		expect(projectMonthEnd(700, now)).toBe(Math.round((700 * 31 * 24) / (3.5 * 24)));
	});
});

describe('inbound message content', () => {
	it('keeps every type with a readable placeholder', () => {
		expect(readInboundContent({ type: 'text', id: '1', text: 'こんにちは', markAsReadToken: 'm' })).toMatchObject({ kind: 'text', text: 'こんにちは', markAsReadToken: 'm' });
		expect(readInboundContent({ type: 'sticker', packageId: '1', stickerId: '2' })).toMatchObject({ kind: 'sticker', text: 'スタンプ', details: { packageId: '1', stickerId: '2' } });
		expect(readInboundContent({ type: 'image' }).text).toBe('画像');
		expect(readInboundContent({ type: 'file', fileName: 'a.pdf' }).text).toBe('ファイル: a.pdf');
		expect(readInboundContent({ type: 'location', title: '渋谷店' }).text).toBe('位置情報: 渋谷店');
		expect(readInboundContent({ type: 'hologram' })).toMatchObject({ kind: 'unknown', details: { lineType: 'hologram' } });
		expect(readInboundContent(null)).toMatchObject({ kind: 'unknown' });
	});
});
