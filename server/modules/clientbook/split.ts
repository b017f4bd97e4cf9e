/**
 * Splitting a book among staff in chosen proportions (pure). Percentages must add up to 100;
 * counts follow the largest-remainder method, so they add up to the number of customers exactly
 * and each is within one of its exact share. Ties go to the share listed first.
 */
export interface Share {
	staffId: string;
	percent: number;
}

export function splitCounts(total: number, shares: Share[]): number[] {
	const exact = shares.map((s) => (total * s.percent) / 100);
	const counts = exact.map(Math.floor);
	let left = total - counts.reduce((a, b) => a + b, 0);
	const order = exact.map((e, i) => ({ i, frac: e - Math.floor(e) })).sort((a, b) => b.frac - a.frac || a.i - b.i);
	for (const { i } of order) {
		if (left <= 0) break;
		counts[i]++;
		left--;
	}
	return counts;
}

/** The customers (in the order given) in consecutive blocks, one block per share. */
export function splitCustomers<T>(customers: T[], shares: Share[]): Array<{ staffId: string; customers: T[] }> {
	const counts = splitCounts(customers.length, shares);
	let at = 0;
	return shares.map((s, i) => {
		const block = customers.slice(at, at + counts[i]);
		at += counts[i];
		return { staffId: s.staffId, customers: block };
	});
}
