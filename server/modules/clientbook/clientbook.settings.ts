/** Brand settings of the client book (stored by the settings module). */
import * as v from 'valibot';
import { defineSetting } from '../settings/settings.service.ts';

/**
 * What a staff member's first consultation or store sale with an unowned customer does:
 * 'propose' — the customer shows under 提案 in their book until they claim it (default);
 * 'assign' — they become the 担当 at once (audited as first_contact / store_sale);
 * 'off' — nothing.
 */
export const FIRST_CONTACT_OWNER = defineSetting(
	'clientBook.firstContactOwner',
	v.picklist(['propose', 'assign', 'off'] as const),
	'propose' as 'propose' | 'assign' | 'off'
);
