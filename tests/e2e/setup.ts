/**
 * Brand settings for the e2e run, through the settings API as a manager would set them: the
 * suite sends follow-ups to the same demo member many times and may run at any hour, so the
 * contact limits are raised and the quiet hours turned off here. The production defaults stay
 * as they are; contact-limits.e2e.ts sets the limits it tests itself. Runs after the web server
 * is up (Playwright starts webServer before globalSetup).
 */
import type { FullConfig } from '@playwright/test';

export const E2E_CONTACT_SETTINGS = { maxPer7Days: 100, maxPer30Days: 100, quietHours: null };

/** A manager's session (S002, 渋谷店) on a tablet enrolled for the run's own set-up. */
export async function managerToken(baseURL: string): Promise<string> {
	const post = async (path: string, body: unknown, authorization?: string) => {
		const res = await fetch(new URL(path, baseURL), {
			method: 'POST',
			headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
			body: JSON.stringify(body)
		});
		if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
		return (await res.json()) as Record<string, any>;
	};
	const enrolled = await post('/api/devices/enroll', { storeId: 'shibuya', deviceName: 'e2e set-up', staffCode: 'S002', pin: '1234' });
	const device = `Device ${enrolled.deviceToken}`;
	const me = (await (await fetch(new URL('/api/devices/me', baseURL), { headers: { authorization: device } })).json()) as { staff: Array<{ id: string; staffCode: string }> };
	const manager = me.staff.find((s) => s.staffCode === 'S002')!;
	return (await post('/api/sessions', { staffId: manager.id, pin: '1234' }, device)).token as string;
}

export async function putContactSettings(baseURL: string, token: string, settings: Record<string, unknown>): Promise<void> {
	const res = await fetch(new URL('/api/contact/settings', baseURL), {
		method: 'PUT',
		headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
		body: JSON.stringify(settings)
	});
	if (!res.ok) throw new Error(`contact settings: ${res.status} ${await res.text()}`);
}

export default async function globalSetup(config: FullConfig): Promise<void> {
	const baseURL = config.projects[0].use.baseURL!;
	await putContactSettings(baseURL, await managerToken(baseURL), E2E_CONTACT_SETTINGS);
}
