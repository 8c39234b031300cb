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
import { installCalendar } from './calendar';
import { installContacts } from './contacts';
import { installFiles } from './files';
import { installMail } from './mail';
import { installSubscriptions } from './subscriptions';
import { installTeams } from './teams';
import { installTodo } from './todo';
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

export function installGraph(sandbox: Sandbox): void {
  graphState(sandbox);
  installBatch(sandbox);
  installUsers(sandbox);
  installGraphControl(sandbox);
  // Literal routes before :param routes within each module; modules do not overlap.
  installMail(sandbox);
  installCalendar(sandbox);
  installFiles(sandbox);
  installTeams(sandbox);
  installContacts(sandbox);
  installTodo(sandbox);
  installSubscriptions(sandbox);
}
