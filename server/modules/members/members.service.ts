/**
 * Membership inside LINE: LINE vouches for who the user is (ID token → `sub`), the member
 * consents and is created or linked, and the card shows their purchases and a rotating QR.
 * Every function starts from a verified identity: the LINE verify call or our member session.
 */
import { AppError, badRequest, conflict, forbidden, tooMany, unauthorized } from '../../errors.ts';
import type { AppDeps } from '../../http/context.ts';
import { verifyIdToken, type IdTokenFailure, type LineIdentity } from '../../integrations/line/login.ts';
import { MEMBER_QR_ROTATE_SECONDS, verifyMemberQr, type MemberQrFailure } from '../../shared/member-qr.ts';
import { linkLineAndConsent, resolveCustomer, updateMemberProfile } from '../customers/customers.service.ts';
import { normalizePhone } from '../customers/identity.ts';
import * as privacy from '../privacy/privacy.service.ts';
import { readSetting } from '../settings/settings.service.ts';
import { isKatakanaReading, normalizeKana } from '../../shared/kana.ts';
import { adoptEarlierLineStatus } from '../line/line.service.ts';
import { memberQrSigner, mintMemberQr, publicKeySet, type MintedMemberQr } from './qr-keys.ts';
import * as limits from '../ratelimit/rate-limit.service.ts';
import { isUuid } from '../staff/tokens.ts';
import * as repo from './members.repository.ts';
import { issueMemberSession, readMemberSession, type MemberSession } from './session.ts';

export type MemberStatus = 'linked' | 'needs_consent';
const CARD_PURCHASES = 10;

/**
 * Failed link attempts (guessing member number + birthday), per LINE user and per address,
 * shared by every process: 5 wrong attempts, then a lockout of 3 minutes that doubles per
 * repeat (up to an hour).
 */
const LINK_FAILURES: limits.LimitPolicy = {
	name: 'member.link_failures',
	capacity: 5,
	refillPerSecond: 1 / 180,
	lockout: { baseSeconds: 180, maxSeconds: 3600 }
};

const ID_TOKEN_ERRORS: Record<IdTokenFailure, () => AppError> = {
	expired: () => unauthorized('id_token_expired', 'The LINE ID token has expired; log in again'),
	wrong_audience: () => unauthorized('id_token_wrong_channel', 'The LINE ID token was issued for another channel'),
	invalid: () => unauthorized('id_token_invalid', 'The LINE ID token is not valid'),
	unavailable: () => new AppError(503, 'line_unavailable', 'LINE could not be reached; try again shortly')
};

/** LINE verifies the ID token; we keep only `sub` and the display name. */
export async function identifyByIdToken(deps: AppDeps, idToken: string): Promise<LineIdentity> {
	const result = await verifyIdToken(deps.config.line, idToken);
	if (!result.ok) throw ID_TOKEN_ERRORS[result.reason]();
	return result.identity;
}

export async function startSession(deps: AppDeps, idToken: string): Promise<{ session: string; status: MemberStatus }> {
	const identity = await identifyByIdToken(deps, idToken);
	const member = await repo.findMemberByLineUser(deps.db, identity.sub);
	const linked = member && member.consent_terms_at && !member.merged_into ? member : undefined;
	const session = await issueMemberSession(deps.config.sessionSecret, {
		lineUserId: identity.sub,
		customerId: linked?.id ?? null,
		displayName: identity.name ?? null
	});
	return { session, status: linked ? 'linked' : 'needs_consent' };
}

export async function readSession(deps: AppDeps, token: string): Promise<MemberSession> {
	return readMemberSession(deps.config.sessionSecret, token);
}

export interface ConsentInput {
	messagesOptIn: boolean;
	/** purchase-history linking (store + EC); absent = not agreed */
	linkingOptIn?: boolean;
	link?: { memberNo: string; birthday: string };
}

/** Creates a new member for this LINE user, or links the existing one named by member number + birthday. */
export async function giveConsent(
	deps: AppDeps,
	who: { lineUserId: string; displayName: string | null; address: string },
	input: ConsentInput
): Promise<{ session: string; status: MemberStatus; memberNo: string; created: boolean }> {
	const throttleKeys = [`line:${who.lineUserId}`, `ip:${who.address}`];
	if (input.link && (await limits.lockedFor(deps.db, LINK_FAILURES, throttleKeys)) !== null) {
		throw tooMany('link_throttled', 'Too many failed attempts; wait a few minutes and try again');
	}
	const now = new Date();
	const outcome = await deps.db
		.transaction()
		.execute(async (trx) => {
			const own = await repo.findMemberByLineUser(trx, who.lineUserId);
			let customerId: string;
			let created = false;
			if (input.link) {
				const target = await repo.findMemberByNoForUpdate(trx, input.link.memberNo.trim());
				if (!target || target.merged_into || target.birthday !== input.link.birthday) {
					// One answer for an unknown number and a wrong birthday: no member-number probing.
					throw badRequest('link_mismatch', 'The member number and birthday do not match our records');
				}
				if (target.line_user_id && target.line_user_id !== who.lineUserId) {
					throw conflict('member_linked_elsewhere', 'This member number is already linked to another LINE account');
				}
				if (own && own.id !== target.id) {
					throw conflict('line_already_linked', 'This LINE account is already linked to another member number');
				}
				customerId = target.id;
			} else if (own) {
				customerId = own.id;
			} else {
				const resolved = await resolveCustomer(trx, { line: who.lineUserId });
				customerId = resolved!.customerId;
				created = resolved!.created;
			}
			await linkLineAndConsent(trx, customerId, { lineUserId: who.lineUserId, messagesOptIn: input.messagesOptIn, at: now });
			await privacy.recordJoin(trx, customerId, { messages: input.messagesOptIn, linking: input.linkingOptIn ?? false, at: now, channel: 'liff' });
			await adoptEarlierLineStatus(trx, customerId, who.lineUserId);
			const member = await repo.findMemberById(trx, customerId);
			return { customerId, memberNo: member!.member_no, created };
		})
		.catch(async (err: unknown) => {
			// counted after the transaction: the limiter writes on its own connection
			if (err instanceof AppError && err.code === 'link_mismatch') {
				await Promise.all(throttleKeys.map((k) => limits.take(deps.db, LINK_FAILURES, k)));
			}
			throw err;
		});
	deps.logger.info({ customerId: outcome.customerId, created: outcome.created, linked: Boolean(input.link) }, 'member consented');
	const session = await issueMemberSession(deps.config.sessionSecret, {
		lineUserId: who.lineUserId,
		customerId: outcome.customerId,
		displayName: who.displayName
	});
	return { session, status: 'linked', memberNo: outcome.memberNo, created: outcome.created };
}

/** The linked member behind a session; 403 before consent, 401 when the link changed since. */
async function sessionMember(deps: AppDeps, session: MemberSession): Promise<repo.MemberRow> {
	if (!session.customerId) throw forbidden('needs_consent', 'Accept the membership terms first');
	const member = await repo.findMemberById(deps.db, session.customerId);
	if (!member || member.line_user_id !== session.lineUserId || member.merged_into) {
		throw unauthorized('session_invalid', 'The member session no longer matches; log in again');
	}
	return member;
}

export interface MemberProfile {
	familyKana: string | null;
	givenKana: string | null;
	/** 'YYYY-MM-DD' when the year was given */
	birthday: string | null;
	/** 'MM-DD' (also set when the year was given) */
	birthMonthDay: string | null;
	phone: string | null;
	homeStoreId: string | null;
}

export interface MemberCard {
	name: string | null;
	memberNo: string;
	profile: MemberProfile;
	/** false until the member gave their kana (the card then asks once, right after joining) */
	profileComplete: boolean;
	stores: Array<{ id: string; name: string }>;
	consent: { messages: boolean; linking: boolean; termsVersion: string | null; leaving: { requestId: string; dueAt: string } | null };
	/** the brand's grace period between 退会 and erasure (shown before the member confirms) */
	erasureGraceDays: number;
	/** the LINE official account: blocked / not a friend → the card offers 友だち追加 */
	line: { friend: boolean; blocked: boolean };
	purchases: Array<{
		channel: 'store' | 'ec';
		at: string;
		totalYen: number;
		kind: string;
		storeName: string | null;
		staffName: string | null;
		items: string[];
	}>;
	qr: QrForCard;
}

export interface QrForCard extends MintedMemberQr {
	rotateSeconds: number;
}

export async function getCard(deps: AppDeps, session: MemberSession): Promise<MemberCard> {
	// The member check and the purchases run side by side; nothing is returned unless the check passes.
	const [member, purchases, consent, stores, erasureGraceDays] = await Promise.all([
		sessionMember(deps, session),
		session.customerId ? repo.recentPurchases(deps.db, session.customerId, CARD_PURCHASES) : [],
		session.customerId ? privacy.currentConsent(deps.db, session.customerId) : null,
		repo.listStores(deps.db),
		readSetting(deps.db, privacy.ERASURE_GRACE_DAYS)
	]);
	const qr = await mintForMember(deps, member);
	const fullName = [member.family_name, member.given_name].filter(Boolean).join(' ');
	// without linking consent the card, like the staff profile, shows store purchases only
	const shown = consent?.linking ? purchases : purchases.filter((p) => p.channel === 'store');
	return {
		name: fullName || session.displayName,
		memberNo: member.member_no,
		profile: memberProfile(member),
		profileComplete: Boolean(member.family_kana),
		stores,
		consent: {
			messages: consent?.messages ?? false,
			linking: consent?.linking ?? false,
			termsVersion: consent?.termsVersion ?? null,
			leaving: consent?.leaving ?? null
		},
		erasureGraceDays,
		line: { friend: member.line_friend, blocked: member.line_blocked_at !== null },
		purchases: shown.map((p) => ({
			channel: p.channel,
			at: new Date(p.at).toISOString(),
			totalYen: p.total_yen,
			kind: p.kind,
			storeName: p.store_name,
			staffName: p.staff_name,
			items: p.items
		})),
		qr
	};
}

export async function mintQr(deps: AppDeps, session: MemberSession): Promise<QrForCard> {
	return mintForMember(deps, await sessionMember(deps, session));
}

async function mintForMember(deps: AppDeps, member: repo.MemberRow): Promise<QrForCard> {
	const signer = await memberQrSigner(deps.config.memberQrPrivateKey);
	const minted = await mintMemberQr(signer, { customerId: member.id, memberNo: member.member_no });
	return { ...minted, rotateSeconds: MEMBER_QR_ROTATE_SECONDS };
}

export async function memberQrPublicKeys(deps: AppDeps) {
	return { keys: publicKeySet(await memberQrSigner(deps.config.memberQrPrivateKey)) };
}

const QR_ERRORS: Record<MemberQrFailure, { code: string; message: string }> = {
	malformed: { code: 'qr_malformed', message: 'This is not a member QR code' },
	unknown_key: { code: 'qr_unknown_key', message: 'This QR was signed by a key this brand does not use' },
	bad_signature: { code: 'qr_bad_signature', message: 'The QR signature is not valid (forged or altered)' },
	expired: { code: 'qr_expired', message: 'This QR has expired; ask the member to show the card again' },
	not_yet_valid: { code: 'qr_not_yet_valid', message: 'This QR is dated in the future; check the device clock' },
	wrong_issuer: { code: 'qr_wrong_issuer', message: 'This QR was not issued by Tsunagu' }
};

export interface VerifiedMember {
	customerId: string;
	memberNo: string;
	name: string | null;
	expiresAt: number;
}

/**
 * Online verification of a member QR (the tablet does the same offline with the public key).
 * Failures are 400 (malformed) or 422 with a specific `qr_*` code; never 401, which the tablet
 * would read as its own session ending.
 */
export async function verifyMemberToken(deps: AppDeps, token: string, nowMs = Date.now()): Promise<VerifiedMember> {
	const signer = await memberQrSigner(deps.config.memberQrPrivateKey);
	const result = await verifyMemberQr(token, publicKeySet(signer), nowMs);
	if (!result.ok) {
		const { code, message } = QR_ERRORS[result.reason];
		throw new AppError(result.reason === 'malformed' ? 400 : 422, code, message);
	}
	// a signed token is still input: a cid that is not a UUID would reach the database as one
	const member = isUuid(result.claims.cid) ? await repo.findMemberById(deps.db, result.claims.cid) : undefined;
	if (!member || member.member_no !== result.claims.mno) throw new AppError(422, 'qr_unknown_member', 'No member matches this QR');
	const survivor = member.merged_into ? await repo.findMemberById(deps.db, member.merged_into) : member;
	const m = survivor ?? member;
	return {
		customerId: m.id,
		memberNo: m.member_no,
		name: [m.family_name, m.given_name].filter(Boolean).join(' ') || null,
		expiresAt: result.claims.exp
	};
}

function memberProfile(m: repo.MemberRow): MemberProfile {
	return {
		familyKana: m.family_kana,
		givenKana: m.given_kana,
		birthday: m.birthday,
		birthMonthDay: m.birth_month_day ?? (m.birthday ? m.birthday.slice(5) : null),
		phone: m.phone,
		homeStoreId: m.home_store_id
	};
}

export interface ProfileInput {
	familyKana: string;
	givenKana?: string | null;
	birthday?: { year?: number | null; month: number; day: number } | null;
	phone?: string | null;
	homeStoreId?: string | null;
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * The member's own profile (at joining and later on the card): kana required and normalised to
 * katakana, birthday optional (month and day at least), phone optional (normalised), home store
 * one of the brand's stores. 400 `validation_failed` with the field in `fields`.
 */
export async function saveProfile(deps: AppDeps, session: MemberSession, input: ProfileInput): Promise<MemberProfile> {
	const member = await sessionMember(deps, session);
	const fields: Record<string, string> = {};
	const familyKana = normalizeKana(input.familyKana);
	const givenKana = input.givenKana ? normalizeKana(input.givenKana) : '';
	if (!familyKana) fields.familyKana = 'Required';
	else if (!isKatakanaReading(familyKana) || familyKana.length > 40) fields.familyKana = 'Katakana only';
	if (givenKana && (!isKatakanaReading(givenKana) || givenKana.length > 40)) fields.givenKana = 'Katakana only';
	let birthday: string | null = null;
	let birthMonthDay: string | null = null;
	if (input.birthday) {
		const { year, month, day } = input.birthday;
		const probe = new Date(Date.UTC(year ?? 2000, month - 1, day)); // 2000: a leap year, so 02-29 is valid without a year
		const thisYear = new Date().getUTCFullYear();
		if (probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) fields.birthday = 'Not a date';
		else if (year != null && (year < 1900 || year > thisYear)) fields.birthday = 'Year out of range';
		else {
			birthMonthDay = `${pad(month)}-${pad(day)}`;
			birthday = year != null ? `${year}-${birthMonthDay}` : null;
		}
	}
	let phone: string | null = null;
	if (input.phone && input.phone.trim()) {
		phone = normalizePhone(input.phone);
		if (!phone) fields.phone = 'Not a Japanese phone number';
	}
	const stores = await repo.listStores(deps.db);
	const homeStoreId = input.homeStoreId ?? null;
	if (homeStoreId && !stores.some((s) => s.id === homeStoreId)) fields.homeStoreId = 'Unknown store';
	if (Object.keys(fields).length > 0) throw badRequest('validation_failed', 'Check the highlighted fields', fields);
	// a member who gave only month and day keeps a full birthday given earlier in that month/day
	if (!birthday && birthMonthDay && member.birthday?.slice(5) === birthMonthDay) birthday = member.birthday;
	await deps.db.transaction().execute((trx) =>
		updateMemberProfile(
			trx,
			member.id,
			{ family_kana: familyKana, given_kana: givenKana || null, birthday, birth_month_day: birthMonthDay, phone, home_store_id: homeStoreId },
			new Date()
		)
	);
	return memberProfile({ ...member, family_kana: familyKana, given_kana: givenKana || null, birthday, birth_month_day: birthMonthDay, phone, home_store_id: homeStoreId });
}

/** A switch on the card: message opt-in or purchase-history linking. */
export async function setConsent(deps: AppDeps, session: MemberSession, purpose: 'staff_messages' | 'purchase_linking', granted: boolean, clientId: string | null) {
	const member = await sessionMember(deps, session);
	const state = await privacy.recordConsent(deps.db, { customerId: member.id, purpose, granted, channel: 'liff', clientId });
	return { messages: state.messages, linking: state.linking, termsVersion: state.termsVersion, leaving: state.leaving };
}

/** 登録情報の確認: everything held about the member. */
export async function myData(deps: AppDeps, session: MemberSession) {
	const member = await sessionMember(deps, session);
	return privacy.disclose(deps.db, member.id, { channel: 'liff' });
}

/** 退会 from the card; the card's client id makes an offline replay count once. */
export async function leaveMembership(deps: AppDeps, session: MemberSession, clientId: string) {
	const member = await sessionMember(deps, session);
	return privacy.leave(deps, member.id, { channel: 'liff', clientId });
}
