/**
 * UI messages. Japanese is the default; English mirrors every key (each area file's types
 * enforce it). One file per area so screens can grow their vocabulary independently.
 */
import * as common from './messages/common.ts';
import * as staff from './messages/staff.ts';
import * as member from './messages/member.ts';
import * as manager from './messages/manager.ts';
import * as followup from './messages/followup.ts';
import * as conversations from './messages/conversations.ts';
import * as errors from './messages/errors.ts';
import * as clientbook from './messages/clientbook.ts';
import * as worklist from './messages/worklist.ts';
import * as identity from './messages/identity.ts';

export const ja = { ...common.ja, ...staff.ja, ...member.ja, ...manager.ja, ...followup.ja, ...conversations.ja, ...clientbook.ja, ...worklist.ja, ...identity.ja, ...errors.ja };
export type MessageKey = keyof typeof ja;
export const en: Record<MessageKey, string> = { ...common.en, ...staff.en, ...member.en, ...manager.en, ...followup.en, ...conversations.en, ...clientbook.en, ...worklist.en, ...identity.en, ...errors.en };
