/**
 * Names for the wire shapes the screens use, all derived from the routes through the typed
 * client (nothing here is declared by hand): a renamed field in a server response breaks
 * `npm run check` wherever the SPA reads it. Dates are the ISO strings JSON carries.
 */
import type { InferRequestType } from 'hono/client';
import type { Api, Ok } from './contract.ts';

/** Only its type is used (no runtime client is loaded here). */
declare const api: Api;

type Body<F extends (...args: never[]) => Promise<unknown>> = Ok<Awaited<ReturnType<F>>>;

type Customers = typeof api.customers;
type Reports = typeof api.reports;
type FollowUps = typeof api.followups;

export type StoresResponse = Body<typeof api.stores.$get>;
export type StoreSummary = StoresResponse['stores'][number];
export type DeviceMeResponse = Body<typeof api.devices.me.$get>;
export type StaffListEntry = DeviceMeResponse['staff'][number];
export type EnrollDeviceRequest = InferRequestType<typeof api.devices.enroll.$post>['json'];
export type EnrollDeviceResponse = Body<typeof api.devices.enroll.$post>;
export type DeviceInfo = EnrollDeviceResponse['device'];
export type CreateSessionResponse = Body<typeof api.sessions.$post>;

export type CustomerSearchResponse = Body<Customers['search']['$get']>;
export type CustomerSearchResult = CustomerSearchResponse['results'][number];
export type Profile = Body<Customers[':id']['profile']['$get']>;
export type ProfileVia = NonNullable<InferRequestType<Customers[':id']['profile']['$get']>['query']['via']>;
export type CustomerState = Profile['customer']['state'];
export type TimelineEntry = Profile['timeline'][number];
export type TimelineKind = TimelineEntry['kind'];
export type TodayCustomersResponse = Body<Customers['today']['$get']>;
export type CustomerConsultationsResponse = Body<Customers[':id']['consultations']['$get']>;

export type ProductSummary = Body<typeof api.products.search.$get>['results'][number];

export type PutConsultationRequest = InferRequestType<(typeof api.consultations)[':id']['$put']>['json'];

export type MemberQrKeys = Body<(typeof api)['member-qr']['keys']['$get']>;

export type ComposeContext = Body<FollowUps['compose'][':customerId']['$get']>;
export type FollowUpTemplate = ComposeContext['templates'][number];
export type FollowUp = Body<FollowUps[':id']['$get']>['followUp'];

export type SalesReport = Body<Reports['sales']['$get']>;
export type SalesOrdersReport = Body<Reports['sales']['orders']['$get']>;
export type FunnelReport = Body<Reports['funnel']['$get']>;
export type KpiReport = Body<Reports['kpis']['$get']>;
export type MeReport = Body<Reports['me']['$get']>;

export type MemberConfig = Body<typeof api.member.config.$get>;
export type MemberCard = Body<typeof api.member.card.$get>;
export type MemberQr = Body<typeof api.member.qr.$post>;
export type MemberData = Body<typeof api.member.data.$get>;
export type LegalDoc = Body<(typeof api.member.legal)[':doc']['$get']>;
export type MemberProfileInput = InferRequestType<typeof api.member.profile.$put>['json'];
export type PrivacyRequests = Body<typeof api.privacy.requests.$get>;
export type PrivacyRequest = PrivacyRequests['requests'][number];
export type CustomerPrivacy = Body<(typeof api.privacy.customers)[':customerId']['$get']>;

export type ConsultationRecord = CustomerConsultationsResponse['consultations'][number];
export type ConsultationItemInput = PutConsultationRequest['items'][number];
export type ConsultationOutcome = ConsultationItemInput['outcome'];

type Worklist = typeof api.worklist;
export type TodayList = Body<Worklist['today']['$get']>;
export type WorklistItem = TodayList['groups']['today'][number];
export type WorklistReason = WorklistItem['reason'];
export type WorklistStateRequest = InferRequestType<Worklist['items'][':id']['state']['$put']>['json'];
export type WorklistDismissReason = NonNullable<WorklistStateRequest['reason']>;
export type WorklistOutcomes = Body<Worklist['outcomes']['$get']>;
export type WorklistCampaigns = Body<Worklist['campaigns']['$get']>['campaigns'];
export type WorklistRuleSettings = Body<Worklist['settings']['$get']>['settings'];
export type ContactPolicy = Body<typeof api.contact.settings.$get>['settings'];
