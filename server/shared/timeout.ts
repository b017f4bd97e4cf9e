/** Rejects when `promise` has not settled within `ms` (the timer is cleared either way). */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
	let timer: NodeJS.Timeout;
	return Promise.race([
		promise,
		new Promise<never>((_, reject) => {
			timer = setTimeout(() => reject(new TimeoutError(`timed out after ${ms} ms`)), ms);
		})
	]).finally(() => clearTimeout(timer));
}

export class TimeoutError extends Error {}
