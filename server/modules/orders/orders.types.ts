/**
 * Our own shape of an EC order and refund, whatever platform sent them. Integrations
 * (server/integrations/<vendor>/) translate vendor payloads into these; nothing past them
 * sees a vendor's format. Money is integer yen, vendor ids are strings.
 */
export interface NormalizedOrderLine {
	/** The line's number when the source numbers them (CSV); otherwise its position. */
	lineNo?: number;
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
	/**
	 * Where this state comes from (default webhook). A CSV export carries no ref, landing site,
	 * note attributes or financial status: a CSV state keeps those of the stored order, and a
	 * webhook state older than a stored CSV state still fills them in.
	 */
	source?: 'webhook' | 'csv';
	/**
	 * CSV only: the refunded total the export states (not refund events). It counts as a
	 * `csv-<order id>` refund of whatever the refunds stored by webhook do not already cover.
	 */
	statedRefund?: { amountYen: number; at: Date } | null;
}

export interface OrderKey {
	platform: string;
	ecOrderId: string;
}
