/** Client calls of merge suggestions (/api/identity/*): the manager's queue and the tablet's notice. */
import { api, call, type Ok } from './client.ts';

export type SuggestionList = Ok<Awaited<ReturnType<typeof api.identity.suggestions.$get>>>;
export type Suggestion = SuggestionList['suggestions'][number];
export type CustomerSide = Suggestion['a'];
export type MergeList = Ok<Awaited<ReturnType<typeof api.identity.merges.$get>>>;
export type CustomerSuggestions = Ok<Awaited<ReturnType<(typeof api.identity.customers)[':id']['suggestions']['$get']>>>;

export const fetchSuggestions = (status: 'open' | 'later') => call((o) => api.identity.suggestions.$get({ query: { status } }, o));

export const decide = (id: string, decision: 'merge' | 'reject' | 'later', survivorId?: string) =>
	call((o) => api.identity.suggestions[':id'].decision.$post({ param: { id }, json: { decision, survivorId } }, o));

export const confirmSuggestion = (id: string) => call((o) => api.identity.suggestions[':id'].confirm.$post({ param: { id } }, o));

export const fetchCustomerSuggestions = (id: string) => call((o) => api.identity.customers[':id'].suggestions.$get({ param: { id } }, o));

export const fetchMerges = () => call((o) => api.identity.merges.$get({}, o));

export const undoMerge = (id: string) => call((o) => api.identity.merges[':id'].undo.$post({ param: { id } }, o));
