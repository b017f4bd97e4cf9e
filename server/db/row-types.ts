/** Row shapes the repositories return and take, named once (from the generated table types). */
import type { Insertable, Selectable, Updateable } from 'kysely';
import type { ConsultationsTable, CustomersTable, EcOrdersTable, FollowUpsTable, ProductsTable, StaffTable, StoresTable, TrackedLinksTable } from './types.ts';

export type Store = Selectable<StoresTable>;
export type Staff = Selectable<StaffTable>;
export type Customer = Selectable<CustomersTable>;
export type NewCustomer = Insertable<CustomersTable>;
export type CustomerUpdate = Updateable<CustomersTable>;
export type Product = Selectable<ProductsTable>;
export type EcOrder = Selectable<EcOrdersTable>;
export type Consultation = Selectable<ConsultationsTable>;
export type FollowUp = Selectable<FollowUpsTable>;
export type NewTrackedLink = Insertable<TrackedLinksTable>;
