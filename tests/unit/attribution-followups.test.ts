import { describe, expect, it } from 'vitest';
import { altTextFor, buildLineMessages, checkSender } from '../../server/integrations/line/flex.ts';
import { classifyPushError } from '../../server/integrations/line/push.ts';
import { followUpEligibility, renderTemplate } from '../../server/modules/followups/messages.ts';
import { backoffMs } from '../../server/modules/followups/outbox.ts';

const headers = (h: Record<string, string>) => ({ get: (n: string) => h[n] ?? null });

describe('push outcome mapping', () => {
	it('treats 409 (retry key already accepted) as sent', () => {
		expect(classifyPushError({ status: 409, body: '{"message":"The retry key is already accepted"}', headers: headers({ 'x-line-accepted-request-id': 'abc' }) })).toEqual({ kind: 'sent', requestId: 'abc' });
	});
	it('retries 5xx, timeouts and ordinary 429s; fails the monthly limit and other 4xx with the reason', () => {
		expect(classifyPushError({ status: 503, body: '{"message":"busy"}', headers: null }).kind).toBe('retry');
		expect(classifyPushError({ status: null, body: '', headers: null }).kind).toBe('retry');
		expect(classifyPushError({ status: 429, body: '{"message":"The API rate limit has been exceeded. Try again later."}', headers: null }).kind).toBe('retry');
		expect(classifyPushError({ status: 429, body: '{"message":"You have reached your monthly limit."}', headers: null })).toEqual({ kind: 'failed', reason: 'monthly_limit: You have reached your monthly limit.' });
		const bad = classifyPushError({ status: 400, body: '{"message":"The request body has 1 error(s)","details":[{"message":"invalid","property":"to"}]}', headers: null });
		expect(bad).toEqual({ kind: 'failed', reason: 'line_400: The request body has 1 error(s) (to: invalid)' });
	});
	it('backs off exponentially with jitter and a cap', () => {
		expect(backoffMs(1, () => 0.5)).toBe(2000);
		expect(backoffMs(3, () => 0.5)).toBe(8000);
		expect(backoffMs(30, () => 0.5)).toBe(600_000);
		expect(backoffMs(2, () => 0)).toBe(3000);
	});
});

describe('follow-up messages', () => {
	it('renders template variables and leaves unknown ones', () => {
		expect(renderTemplate('{customerName}様 {storeName} {staffName} {other}', { customerName: '山田 花子', staffName: '鈴木', storeName: '渋谷店' })).toBe('山田 花子様 渋谷店 鈴木 {other}');
	});
	it('validates the sender: ≤ 20 characters, no LINE, HTTPS PNG icon only', () => {
		expect(checkSender('渋谷店 鈴木', 'https://x.jp/a.png').sender).toEqual({ name: '渋谷店 鈴木', iconUrl: 'https://x.jp/a.png' });
		expect(checkSender('あ'.repeat(20), null).problem).toBeNull();
		expect(checkSender('あ'.repeat(21), null).problem).toBe('sender_name_too_long');
		expect(checkSender('  ', null).problem).toBe('sender_name_empty');
		expect(checkSender('LINE公式', null).problem).toBe('sender_name_reserved');
		expect(checkSender('鈴木', 'http://x.jp/a.png')).toMatchObject({ sender: { name: '鈴木' }, iconDropped: true });
		expect(checkSender('鈴木', 'https://x.jp/a.jpg').iconDropped).toBe(true);
	});
	it('builds text only without products, text + carousel with them', () => {
		expect(buildLineMessages('hi', { name: 'A' }, [])).toEqual([{ type: 'text', text: 'hi', sender: { name: 'A' } }]);
		const m = buildLineMessages('hi', { name: 'A' }, [{ name: 'コート', priceYen: 29800, imageUrl: 'http://insecure/x.jpg', linkUrl: 'https://t/l/abc' }]);
		expect(m[1]).toMatchObject({ type: 'flex', altText: 'Aからのおすすめ（1点）: コート', contents: { type: 'carousel' } });
		const bubble = (m[1] as any).contents.contents[0];
		expect(bubble.hero).toBeUndefined();
		expect(bubble.body.contents[1].text).toBe('¥29,800');
		expect(altTextFor('A', Array.from({ length: 10 }, () => ({ name: 'x'.repeat(100), priceYen: 1, imageUrl: null, linkUrl: '' }))).length).toBeLessThanOrEqual(400);
	});
	it('allows only opted-in LINE friends who have not blocked', () => {
		const ok = { consent_messages: true, line_user_id: 'U1', line_friend: true, line_blocked_at: null };
		expect(followUpEligibility(ok)).toEqual({ allowed: true, reason: null });
		expect(followUpEligibility({ ...ok, consent_messages: false }).reason).toBe('no_consent');
		expect(followUpEligibility({ ...ok, line_user_id: null }).reason).toBe('no_line');
		expect(followUpEligibility({ ...ok, line_friend: false, line_blocked_at: new Date() }).reason).toBe('blocked');
		expect(followUpEligibility({ ...ok, line_friend: false }).reason).toBe('not_friend');
	});
});
