/**
 * Graph v1.0: the core every service builds on (auth and permissions, errors, OData query
 * options and paging, $batch, the change-tracking store and delta, throttling) plus users.
 * Service modules register their routes with `graphRoute` (core.ts); see sandbox/README.md,
 * "Adding a Graph service".
 */
import type { Sandbox } from '../context';
import { installBatch } from './batch';
import { installGraphControl } from './control';
import { graphState } from './core';
import { installCalendar, seedCalendar } from './calendar';
import { installContacts, seedContacts } from './contacts';
import { installExcel } from './excel';
import { installFiles, seedFiles } from './files';
import { installMail, seedMail } from './mail';
import { installMailbox, seedMailbox } from './mailbox';
import { installPlaces, seedPlaces } from './places';
import { installOneNote, seedOneNote } from './onenote';
import { installPlanner, seedPlanner } from './planner';
import { installMeetings } from './meetings';
import { installPeople } from './people';
import { installSearch } from './search';
import { installSubscriptions } from './subscriptions';
import { installSharePoint, seedSharePoint } from './sharepoint';
import { installTeams, seedTeams } from './teams';
import { installTodo, seedTodo } from './todo';
import { installUsers } from './users';

export { graphRoute, graphState, entityResponse, contextPath, odataContext } from './core';
export type { GraphCtx, GraphHandler, GraphModule, GraphPreferences, GraphRouteOptions } from './core';
export { collection, pageSize, selfLink } from './paging';
export {
  applyOrderBy,
  applySelect,
  assertOutlookFilterOrder,
  evaluateFilter,
  parseFilter,
  parseODataQuery,
} from './odata';
export type { ODataQuery } from './odata';
export type { CollectionOptions } from './paging';
export { deltaResponse } from './delta';
export type { DeltaOptions } from './delta';
export {
  GraphHttpError,
  accessDenied,
  badQuery,
  badRequest,
  errorCode,
  formatRetryAfter,
  notFound,
  throttled,
} from './errors';
export type { Workload } from './errors';
export { ChangeStore, outlookId, driveItemId, graphTimestamp } from './store';
export type { Change, CollectionRef, Entity } from './store';
export { Throttle } from './throttle';
export { toIanaZone, toWindowsZone } from './timezones';

/**
 * The Graph services, each a folder here: its routes and the demo data of the seeded users. A new
 * service is one line (docs/adding-a-service.md). Routes are matched in this order; within a
 * module literal routes come before :param routes, and modules do not overlap.
 */
const SERVICES: ReadonlyArray<{ install(sandbox: Sandbox): void; seed?(sandbox: Sandbox): void }> = [
  { install: installMail, seed: seedMail },
  { install: installMailbox, seed: seedMailbox },
  { install: installCalendar, seed: seedCalendar },
  { install: installFiles, seed: seedFiles },
  // Reached through the files routes (`{item}/workbook/...`); installs its control routes.
  { install: installExcel },
  { install: installTeams, seed: seedTeams },
  { install: installContacts, seed: seedContacts },
  { install: installTodo, seed: seedTodo },
  { install: installSharePoint, seed: seedSharePoint },
  // After Teams: plans live in the teams' groups.
  { install: installPlanner, seed: seedPlanner },
  { install: installOneNote, seed: seedOneNote },
  // Meetings' artifacts come from the control API (a sandbox hosts no calls): nothing to seed.
  { install: installMeetings },
  { install: installPlaces, seed: seedPlaces },
  // Computed from the services' data: nothing of their own to seed.
  { install: installPeople },
  { install: installSearch },
  // Subscriptions come from the app after connect: nothing to seed.
  { install: installSubscriptions },
];

export function installGraph(sandbox: Sandbox): void {
  graphState(sandbox);
  installBatch(sandbox);
  installUsers(sandbox);
  installGraphControl(sandbox);
  for (const service of SERVICES) service.install(sandbox);
}

/** Every service's demo data for the users already in the directory (sandbox/seed.ts). */
export function seedGraph(sandbox: Sandbox): void {
  for (const service of SERVICES) service.seed?.(sandbox);
}
