/**
 * Our own shape of an EC order and refund, whatever platform sent them. Integrations
 * (server/integrations/<vendor>/) translate vendor payloads into these; nothing past them
 * sees a vendor's format. Money is integer yen, vendor ids are strings.
 */
export interface NormalizedOrderLine {
	ecLineId: string | null;
	ecProductId: string | null;
	sku: string | null;
	name: string;
	quantity: number;
	unitPriceYen: number;
	/** unit price × quantity − line discounts */
	amountYen: number;
}

export interface NormalizedRefund {
	platform: string;
	ecRefundId: string;
	ecOrderId: string;
	amountYen: number;
	refundedAt: Date;
}

export interface NormalizedOrder {
	platform: string;
	ecOrderId: string;
	orderName: string | null;
	customer: {
		ecCustomerId: string | null;
		email: string | null;
		phone: string | null;
		familyName: string | null;
		givenName: string | null;
	};
	orderedAt: Date;
	/** The platform's own updated_at: decides which of two deliveries is the newer state. */
	sourceUpdatedAt: Date;
	subtotalYen: number;
	totalYen: number;
	status: 'open' | 'cancelled';
	cancelledAt: Date | null;
	financialStatus: string | null;
	landingSite: string | null;
	/** Tracked-link ref carried through to the order (note attribute or landing-site query). */
	refCode: string | null;
	noteAttributes: Array<{ name: string; value: string }>;
	lines: NormalizedOrderLine[];
	/** Refunds embedded in the order payload (orders/updated carries them). */
	refunds: NormalizedRefund[];
}

export interface OrderKey {
	platform: string;
	ecOrderId: string;
}
