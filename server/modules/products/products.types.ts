/**
 * Shapes of /api/products.
 * Declared by the server; the SPA gets them through AppType (hc), never by importing this file.
 * Dates are ISO strings (date-only fields 'YYYY-MM-DD'); money is integer yen.
 */

export interface ProductSummary {
	id: number;
	sku: string;
	jan: string | null;
	name: string;
	category: string;
	priceYen: number;
	imageUrl: string | null;
}

/** GET /api/products/search?q= */
export interface ProductSearchResponse {
	results: ProductSummary[];
}

/** GET /api/products/by-code/:code (JAN or SKU) → ProductSummary; 404 product_not_found */
export type ProductByCodeResponse = ProductSummary;

