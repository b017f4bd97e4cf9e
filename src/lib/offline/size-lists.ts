/**
 * The brand's size lists for the consultation form's pickers. Fetched when online and kept in
 * localStorage (a few hundred bytes), so the picker works offline; a tablet that never fetched
 * them offers the shared defaults, which the server also falls back to.
 */
import { api, call } from '$lib/api/client.ts';
import { DEFAULT_SIZE_LISTS, SIZE_CATEGORIES, type SizeCategory, type SizeLists } from '../../../server/shared/sizes.ts';

const KEY = 'tsunagu.sizeLists';

function stored(): SizeLists | null {
	try {
		const raw = typeof localStorage === 'undefined' ? null : localStorage.getItem(KEY);
		return raw ? (JSON.parse(raw) as SizeLists) : null;
	} catch {
		return null;
	}
}

/** Asks the server each time the form opens (the brand may have changed its lists); offline, the last copy. */
export async function loadSizeLists(): Promise<SizeLists> {
	try {
		const { lists } = await call((o) => api.consultations['size-lists'].$get({}, o));
		localStorage.setItem(KEY, JSON.stringify(lists));
		return lists;
	} catch {
		return stored() ?? DEFAULT_SIZE_LISTS;
	}
}

/** The categories the brand records, in the fixed order (shoes, tops, bottoms, outerwear). */
export function sizeCategories(lists: SizeLists): SizeCategory[] {
	return SIZE_CATEGORIES.filter((c) => (lists[c]?.length ?? 0) > 0);
}
