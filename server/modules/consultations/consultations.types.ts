/**
 * Shapes of PUT /api/consultations/:id and a customer's consultation history.
 * Declared by the server; the SPA gets them through AppType (hc), never by importing this file.
 * Dates are ISO strings (date-only fields 'YYYY-MM-DD'); money is integer yen.
 */
import type { ConsultationOutcome } from '../customers/profile.types.ts';

export interface ConsultationItemInput {
	productId?: number;
	sku?: string;
	name: string;
	size?: string;
	color?: string;
	outcome: ConsultationOutcome;
}

/**
 * PUT /api/consultations/:id — :id is a client-generated UUID. Exactly one of customerId /
 * memberNo (memberNo when recorded offline for a customer the tablet did not know).
 * Limits: notes ≤ 2000 chars, ≤ 30 items, ≤ 10 tags.
 */
export interface PutConsultationRequest {
	customerId?: string;
	memberNo?: string;
	occurredAt: string;
	items: ConsultationItemInput[];
	sizes: Record<string, string>;
	notes: string;
	tags: string[];
	nextAction?: string;
	/** 'YYYY-MM-DD' */
	nextActionDue?: string;
}

export interface ConsultationRecord {
	id: string;
	customerId: string | null;
	memberNo: string | null;
	storeId: string;
	storeName: string;
	staffId: string;
	staffName: string;
	deviceId: string | null;
	occurredAt: string;
	items: ConsultationItemInput[];
	sizes: Record<string, string>;
	notes: string;
	tags: string[];
	nextAction: string | null;
	nextActionDue: string | null;
	createdAt: string;
}

/** 201 on first write, 200 on replay by the same author; 409 id_conflict for another author. */
export interface PutConsultationResponse {
	consultation: ConsultationRecord;
}

/** GET /api/customers/:id/consultations (brand-wide, newest first) */
export interface CustomerConsultationsResponse {
	consultations: ConsultationRecord[];
}
