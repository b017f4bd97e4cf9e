/**
 * The list of migrations, in order. A static index (not a directory scan) so the same
 * migrations run under tsx, Vitest and a bundled server. Add new files here; never edit old ones.
 */
import type { Migration } from 'kysely/migration';
import * as schemaV1 from './2026-11-23T0900_schema_v1.ts';
import * as demoSeed from './2026-11-23T1200_demo_seed.ts';
import * as lineMembership from './2026-11-23T1300_line_membership.ts';
import * as staffTablet from './2026-11-23T1400_staff_tablet.ts';
import * as followups from './2026-11-23T1500_followups.ts';
import * as reports from './2026-11-23T1600_reports.ts';
import * as reportsRollups from './2026-11-23T1600_reports_rollups.ts';
import * as reportsStaffLinks from './2026-11-23T1600_reports_staff_links.ts';
import * as offlineAudit from './2026-11-23T1700_offline_audit.ts';
import * as reportCustomerFacts from './2026-11-24T0900_report_customer_facts.ts';
import * as purchaseTriggersAlways from './2026-11-24T1100_purchase_triggers_always.ts';
import * as purchasesTimeIdxDropped from './2026-11-24T1100_purchases_time_idx_dropped.ts';
import * as purchasesStoreTimeIdxDropped from './2026-11-24T1200_purchases_store_time_idx_dropped.ts';
import * as purchaseLinesProductIdxDropped from './2026-11-24T1300_purchase_lines_product_idx_dropped.ts';
import * as customerTriggersAlways from './2026-11-24T1400_customer_triggers_always.ts';
import * as customerPartialIndexes from './2026-11-24T1500_customer_partial_indexes.ts';
import * as ownerAndBrandSettings from './2026-12-04T0900_owner_and_brand_settings.ts';
import * as orderStatedRefunds from './2026-12-04T1000_order_stated_refunds.ts';
import * as attributionChanges from './2026-12-04T1010_attribution_changes.ts';
import * as authHardening from './2026-12-04T1100_auth_hardening.ts';
import * as reportRollupDirty from './2026-12-04T1200_report_rollup_dirty.ts';
import * as conversations from './2026-12-04T1400_conversations.ts';
import * as worklist from './2026-12-07T0900_worklist.ts';
import * as contactLimits from './2026-12-07T0910_contact_limits.ts';
import * as clientBook from './2026-12-07T0920_client_book.ts';
import * as consentLedger from './2026-12-07T0930_consent_ledger.ts';
import * as identityMerge from './2026-12-07T0940_identity_merge.ts';
import * as customerFactsBook from './2026-12-07T1000_customer_facts_book.ts';
import * as conversationListIndexes from './2026-12-07T1012_conversation_list_indexes.ts';
import * as structuredSizes from './2026-12-07T1015_structured_sizes.ts';

export const migrations: Record<string, Migration> = {
	'2026-11-23T0900_schema_v1': schemaV1,
	'2026-11-23T1200_demo_seed': demoSeed,
	'2026-11-23T1300_line_membership': lineMembership,
	'2026-11-23T1400_staff_tablet': staffTablet,
	'2026-11-23T1500_followups': followups,
	'2026-11-23T1600_reports': reports,
	'2026-11-23T1600_reports_rollups': reportsRollups,
	'2026-11-23T1600_reports_staff_links': reportsStaffLinks,
	'2026-11-23T1700_offline_audit': offlineAudit,
	'2026-11-24T0900_report_customer_facts': reportCustomerFacts,
	'2026-11-24T1100_purchase_triggers_always': purchaseTriggersAlways,
	'2026-11-24T1100_purchases_time_idx_dropped': purchasesTimeIdxDropped,
	'2026-11-24T1200_purchases_store_time_idx_dropped': purchasesStoreTimeIdxDropped,
	'2026-11-24T1300_purchase_lines_product_idx_dropped': purchaseLinesProductIdxDropped,
	'2026-11-24T1400_customer_triggers_always': customerTriggersAlways,
	'2026-11-24T1500_customer_partial_indexes': customerPartialIndexes,
	'2026-12-04T0900_owner_and_brand_settings': ownerAndBrandSettings,
	'2026-12-04T1000_order_stated_refunds': orderStatedRefunds,
	'2026-12-04T1010_attribution_changes': attributionChanges,
	'2026-12-04T1100_auth_hardening': authHardening,
	'2026-12-04T1200_report_rollup_dirty': reportRollupDirty,
	'2026-12-04T1400_conversations': conversations,
	'2026-12-07T0900_worklist': worklist,
	'2026-12-07T0910_contact_limits': contactLimits,
	'2026-12-07T0920_client_book': clientBook,
	'2026-12-07T0930_consent_ledger': consentLedger,
	'2026-12-07T0940_identity_merge': identityMerge,
	'2026-12-07T1000_customer_facts_book': customerFactsBook,
	'2026-12-07T1012_conversation_list_indexes': conversationListIndexes,
	'2026-12-07T1015_structured_sizes': structuredSizes
};
