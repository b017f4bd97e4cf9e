/**
 * Response and request shapes of the staff auth endpoints (/api/stores, /api/devices, /api/sessions).
 * Declared by the server; the SPA gets them through AppType (hc), never by importing this file.
 * Dates are ISO strings (date-only fields 'YYYY-MM-DD'); money is integer yen.
 */
export type StaffRole = 'staff' | 'manager' | 'admin';

export interface StoreSummary {
	id: string;
	name: string;
	nameEn: string;
}

/** GET /api/stores (no auth) */
export interface StoresResponse {
	stores: StoreSummary[];
}

export interface DeviceInfo {
	id: string;
	name: string;
	storeId: string;
	storeName: string;
}

/** POST /api/devices/enroll */
export interface EnrollDeviceRequest {
	storeId: string;
	deviceName: string;
	staffCode: string;
	pin: string;
	/** the one-time code a manager/admin issued (required when the server says so) */
	enrollmentCode?: string;
}

/** 201 of POST /api/devices/enroll. deviceToken = `<deviceId>.<secret>`; send as `Authorization: Device <deviceToken>`. */
export interface EnrollDeviceResponse {
	device: DeviceInfo;
	deviceToken: string;
}

export interface StaffListEntry {
	id: string;
	displayName: string;
	role: StaffRole;
	staffCode: string;
}

/** GET /api/devices/me (device auth) */
export interface DeviceMeResponse {
	device: DeviceInfo;
	staff: StaffListEntry[];
}

/** POST /api/sessions (device auth) */
export interface CreateSessionRequest {
	staffId: string;
	pin: string;
}

export interface SessionStaff {
	id: string;
	displayName: string;
	role: StaffRole;
	storeId: string;
	staffCode: string;
}

/** 201 of POST /api/sessions. Send `Authorization: Bearer <token>` on staff calls. */
export interface CreateSessionResponse {
	token: string;
	expiresAt: string;
	staff: SessionStaff;
}
