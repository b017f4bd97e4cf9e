/**
 * Membership inside LINE: LINE vouches for who the user is (ID token → `sub`), the member
 * consents and is created or linked, and the card shows their purchases and a rotating QR.
 * Every function starts from a verified identity: the LINE verify call or our member session.
 */
import { AppError, badRequest, conflict, forbidden, tooMany, unauthorized } from '../../errors.ts';
import type { AppDeps } from '../../http/context.ts';
import { verifyIdToken, type IdTokenFailure, type LineIdentity } from '../../integrations/line/login.ts';
import { MEMBER_QR_ROTATE_SECONDS, verifyMemberQr, type MemberQrFailure } from '../../shared/member-qr.ts';
import { resolveCustomer } from '../customers/customers.service.ts';
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
			await repo.linkLineAndConsent(trx, customerId, { lineUserId: who.lineUserId, messagesOptIn: input.messagesOptIn, at: now });
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

export interface MemberCard {
	name: string | null;
	memberNo: string;
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
	const [member, purchases] = await Promise.all([
		sessionMember(deps, session),
		session.customerId ? repo.recentPurchases(deps.db, session.customerId, CARD_PURCHASES) : []
	]);
	const qr = await mintForMember(deps, member);
	const fullName = [member.family_name, member.given_name].filter(Boolean).join(' ');
	return {
		name: fullName || session.displayName,
		memberNo: member.member_no,
		purchases: purchases.map((p) => ({
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
