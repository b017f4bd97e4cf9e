/**
 * Client calls of the client book (/api/client-book/*): the book page, claim, assign, hand over
 * a book, deactivate a staff member with the book decision, the ownership audit.
 */
import { api, call, type Ok } from './client.ts';

type BookGet = typeof api['client-book']['$get'];
export type BookQuery = NonNullable<Parameters<BookGet>[0]>['query'];
export type BookPage = Ok<Awaited<ReturnType<BookGet>>>;
export type BookCustomer = BookPage['customers'][number];
export type StaffBooks = Ok<Awaited<ReturnType<typeof api['client-book']['staff']['$get']>>>;
export type Share = { staffId: string; percent: number };
export type HandoverTarget = { storeBook: true } | { shares: Share[] };

export function listBook(query: BookQuery): Promise<BookPage> {
	return call((o) => api['client-book'].$get({ query }, o));
}

export function claimCustomers(customerIds: string[]) {
	return call((o) => api['client-book'].claim.$post({ json: { customerIds } }, o));
}

export function dismissProposal(customerId: string) {
	return call((o) => api['client-book'].proposals[':customerId'].$delete({ param: { customerId } }, o));
}

export function assignCustomers(customerIds: string[], toStaffId: string | null, note?: string) {
	return call((o) => api['client-book'].assign.$post({ json: { customerIds, toStaffId, note: note || null } }, o));
}

export function handoverBook(fromStaffId: string, to: HandoverTarget, customerIds?: string[], note?: string) {
	return call((o) => api['client-book'].handover.$post({ json: { fromStaffId, to, customerIds, note: note || null } }, o));
}

export function deactivateStaff(staffId: string, handover?: HandoverTarget, note?: string) {
	return call((o) => api['client-book'].staff[':id'].deactivate.$post({ param: { id: staffId }, json: { handover, note: note || null } }, o));
}

export function staffBooks(): Promise<StaffBooks> {
	return call((o) => api['client-book'].staff.$get({}, o));
}

export function ownerChanges(query: { staffId?: string; customerId?: string }) {
	return call((o) => api['client-book'].changes.$get({ query }, o));
}
