export const BULK_THRESHOLD = 50_000;
export async function seedBulk(..._args: unknown[]): Promise<never> { throw new Error('not yet'); }
