/**
 * One sync round for one (user, resource): the delta protocol of graph-behaviour.md §5.1 with the
 * items index and the change feed.
 *
 * - A round holds the (user, resource) lease (state.ts); a second worker yields.
 * - It starts from the saved deltaLink, or from the resource's initial delta request for a full
 *   sync, and follows every `@odata.nextLink` verbatim with `Prefer: odata.maxpagesize` re-sent
 *   on each page (reference §4.1: headers aren't carried into nextLinks).
 * - Each page is processed as it arrives (memory does not grow with the mailbox): its items are
 *   classified against the index, the resulting entries are appended to the feed (deduplicated by
 *   a deterministic key), then the index rows are written. A round that dies anywhere in between
 *   is replayed from the last saved deltaLink; the index and the dedupe markers make the replay
 *   write nothing twice.
 * - The new deltaLink is saved only after the last page (style.md 15); a response with neither a
 *   nextLink nor a deltaLink is an error.
 * - 410 / syncStateNotFound / resyncRequired (reference §5.1 item 7; peers pain point 5) drop the
 *   token and restart a full sync in the same round. A full sync emits only real differences
 *   (same id and version → nothing) and, at its end, a deletion for every indexed item it did not
 *   see. The very first sync of a resource is a silent baseline: existing items are indexed, not
 *   reported as new.
 */
import { randomUUID } from 'node:crypto';
import type { InvocationContext } from '@azure/functions';
import { GraphError, graphRequest, type GraphCall } from '../graph/client';
import { askedAgoMs, currentTrace } from '../correlation';
import { Problem } from '../http/problem';
import { getConnection } from '../storage/connections';
import { appendChanges, changeKeyOf, eraseChanges, type NewChange } from './feed';
import { eraseIndexed, getIndexed, putIndexed, unseenItems, type IndexedItem } from './items';
import type { ResourceKey, SyncJob } from './jobs';
import {
  CATCH_UP_OVERLAP_MS,
  calendarWindow,
  resourceDef,
  type CalendarWindow,
  type Item,
  type ResourceDef,
} from './resources';
import { recordSyncLag } from '../telemetry';
import { syncSettings } from './settings';
import {
  acquireLease,
  eraseSyncStates,
  getSyncState,
  LeaseLost,
  releaseLease,
  renewLease,
  type Lease,
  type SyncState,
} from './state';

type Logger = Pick<InvocationContext, 'log' | 'warn' | 'error'>;
const silent: Logger = { log: () => undefined, warn: () => undefined, error: () => undefined };

export type RoundMode = 'baseline' | 'delta' | 'resync';

export interface RoundResult {
  status: 'completed' | 'busy' | 'reauth_required' | 'not_connected';
  /** For `busy`: when the other round's lease runs out (a dead round's work is taken over then). */
  leaseHeldUntil?: number;
  /** For `busy`: the holding round's lease id; for `completed`: this round's. */
  leaseId?: string;
  mode?: RoundMode;
  pages: number;
  /** Graph requests made (pages fetched, restarts included). */
  requests: number;
  items: number;
  created: number;
  updated: number;
  deleted: number;
  /** Feed entries written by this round (replays excluded). */
  entries: number;
  /** Time spent waiting for Graph and for storage (index, feed, lease), in milliseconds. */
  graphMs: number;
  storageMs: number;
  /** To Do lists discovered or removed (the `todo` resource). */
  lists?: { added: string[]; removed: string[] };
  /** Resources found to sync (chats with news, from `teams:chats`), with the instant following began. */
  found?: { resources: ResourceKey[]; since?: string };
}

export interface RoundOptions {
  log?: Logger;
  now?: () => number;
  /** Called after each processed page (tests use it to stop a round part-way). */
  afterPage?: (page: number) => Promise<void> | void;
}

/** Delta tokens the service no longer knows (reference §5.1 item 7). */
export function isResyncError(err: unknown): boolean {
  if (!(err instanceof GraphError)) return false;
  if (err.status === 410) return true;
  return [err.code, err.innerCode].some((c) => c !== undefined && /^(syncStateNotFound|resync)/i.test(c));
}

class RoundState {
  pages = 0;
  requests = 0;
  items = 0;
  created = 0;
  updated = 0;
  deleted = 0;
  entries = 0;
  graphMs = 0;
  storageMs = 0;
  live: number;
  /** The newest lastModifiedDateTime seen (catch-up resources). */
  latest = '';
  found: ResourceKey[] = [];
  constructor(live: number) {
    this.live = live;
  }

  /** The round's figures as a RoundResult reports them. */
  counts(): Omit<RoundResult, 'status' | 'leaseHeldUntil' | 'leaseId' | 'mode' | 'lists'> {
    return {
      pages: this.pages,
      requests: this.requests,
      items: this.items,
      created: this.created,
      updated: this.updated,
      deleted: this.deleted,
      entries: this.entries,
      graphMs: Math.round(this.graphMs),
      storageMs: Math.round(this.storageMs),
    };
  }
}

/**
 * Runs one round; never two at once for a (user, resource). When the user was erased while it
 * ran (or before a queued job got here), what it wrote goes too: an erase leaves nothing behind,
 * including rows written by work that was running (docs/security.md, "Erasure").
 */
export async function runSyncRound(job: SyncJob, options: RoundOptions = {}): Promise<RoundResult> {
  let result: RoundResult;
  try {
    result = await runRound(job, options);
  } catch (err) {
    await dropIfErased(job.userId, options.log ?? silent).catch(() => undefined);
    throw err;
  }
  if (result.status !== 'busy') await dropIfErased(job.userId, options.log ?? silent);
  return result;
}

/**
 * The erase sweeps the sync rows, deletes the connection, then sweeps them again
 * (shared/privacy.ts), so a round that checks after its last write either sees the connection
 * (and the second sweep, still to come, removes what it wrote) or sees it gone and removes its
 * writes itself.
 */
async function dropIfErased(userId: string, log: Logger): Promise<void> {
  if (await getConnection(userId)) return;
  const erased =
    (await eraseSyncStates(userId)) + (await eraseIndexed(userId)) + (await eraseChanges(userId));
  if (erased > 0) log.warn(JSON.stringify({ event: 'sync_rows_of_erased_user_removed', rows: erased }));
}

async function runRound(job: SyncJob, options: RoundOptions): Promise<RoundResult> {
  const log = options.log ?? silent;
  const now = options.now ?? Date.now;
  // A job for a user no longer connected (erased while the job was queued) does nothing: taking
  // the lease would write a sync row for a user who has none.
  if (!(await getConnection(job.userId))) return { status: 'not_connected', ...new RoundState(0).counts() };
  const lease = await acquireLease(job.userId, job.resource, now());
  if ('heldUntil' in lease) {
    log.log(JSON.stringify({ event: 'sync_busy', resource: job.resource }));
    return {
      status: 'busy',
      leaseHeldUntil: lease.heldUntil,
      ...(lease.holder ? { leaseId: lease.holder } : {}),
      ...new RoundState(0).counts(),
    };
  }
  const def = resourceDef(job.resource);
  const previous = lease.state;
  const round = new RoundState(previous.items ?? 0);
  const lists = { added: [] as string[], removed: [] as string[] };
  let mode: RoundMode = 'delta';
  try {
    const settings = syncSettings();
    let window: CalendarWindow | undefined;
    // A catch-up resource keeps its instant through a "full" request: its list is not a whole
    // enumeration to reconcile against, and the instant is exactly what catches up.
    let deltaLink = job.full && !def.catchUp ? undefined : previous.deltaLink;
    if (job.resource === 'calendar') {
      window = calendarWindow(now(), settings.SYNC_CALENDAR_DAYS_BACK, settings.SYNC_CALENDAR_DAYS_AHEAD);
      // The window lives in the token: roll it (a full resync) once it has drifted a week.
      const drift = previous.windowStart ? Date.parse(window.start) - Date.parse(previous.windowStart) : 0;
      if (drift > 7 * 24 * 3600 * 1000) deltaLink = undefined;
      else if (previous.windowStart && previous.windowEnd && deltaLink)
        window = { start: previous.windowStart, end: previous.windowEnd };
    }
    // Until one round has completed, a full sync is the silent baseline (also when resuming a
    // baseline that died part-way: what it hadn't reached yet is not "new").
    const indexed = previous.lastSuccessAt !== undefined;
    // A resource listed in full every round is compared with its whole index, as a resync is.
    mode = deltaLink && !def.enumerates ? 'delta' : indexed ? 'resync' : 'baseline';
    if (mode === 'baseline') round.live = 0;
    const stamp = `${now()}-${randomUUID().slice(0, 8)}`;
    // A chat first met through a notification reports what came since its chats are followed.
    const inherited =
      mode === 'baseline' && !previous.followSince && !job.since && def.foundBy
        ? (await getSyncState(job.userId, def.foundBy))?.followSince
        : undefined;
    const followSince = previous.followSince ?? job.since ?? inherited;
    const newSince = mode === 'baseline' ? instantOf(followSince) : undefined;
    // Teams summaries say whether a message mentions the user: their object id ({oid}.{tid}).
    const me =
      def.service === 'teams'
        ? (await getConnection(job.userId))?.homeAccountId.split('.')[0] || undefined
        : undefined;

    let link: string | undefined;
    for (let restarts = 0; ;) {
      try {
        link = await followPages(job, def, lease, round, {
          ...firstCall(def, deltaLink, window, newSince ?? now()),
          mode,
          stamp,
          newSince,
          me,
          pageSize: settings.SYNC_PAGE_SIZE,
          options,
          lists,
        });
        break;
      } catch (err) {
        if (!isResyncError(err) || restarts++ > 0) throw err;
        // The token (or an old nextLink) expired: start over with a full sync, same round.
        log.warn(
          JSON.stringify({ event: 'sync_reset', resource: job.resource, status: (err as GraphError).status }),
        );
        deltaLink = undefined;
        mode = indexed ? 'resync' : 'baseline';
        if (mode === 'baseline') round.live = 0;
        if (window && job.resource === 'calendar')
          window = calendarWindow(now(), settings.SYNC_CALENDAR_DAYS_BACK, settings.SYNC_CALENDAR_DAYS_AHEAD);
      }
    }
    // A resync reports what it didn't see as deleted; a baseline resumed after a failure quietly
    // drops rows of items that went away meanwhile.
    if (mode === 'resync' || (mode === 'baseline' && (previous.items ?? 0) > 0))
      await reconcile(job, def, round, stamp, window, lists, mode === 'baseline');

    const outcome: Partial<SyncState> = {
      status: 'idle',
      deltaLink: link,
      items: round.live,
      lastSuccessAt: new Date(now()).toISOString(),
      lastError: '',
      lastRound: JSON.stringify({
        mode,
        pages: round.pages,
        requests: round.requests,
        items: round.items,
        created: round.created,
        updated: round.updated,
        deleted: round.deleted,
      }),
      ...(window ? { windowStart: window.start, windowEnd: window.end } : {}),
      // What finds other resources keeps when it began to be followed: they inherit it (foundBy).
      ...(def.discovers && !previous.followSince
        ? { followSince: followSince ?? new Date(now()).toISOString() }
        : {}),
    };
    await releaseLease(lease, outcome);
    // The sync lag: from the change (or the timer turn) that asked for this round to its save.
    const trace = currentTrace();
    const lagMs = trace ? Math.round(askedAgoMs(trace)) : undefined;
    if (lagMs !== undefined) recordSyncLag(job.resource.split(':')[0]!, job.reason, lagMs);
    log.log(
      JSON.stringify({
        event: 'sync_round',
        resource: job.resource,
        reason: job.reason,
        ...(lagMs !== undefined ? { lagMs } : {}),
        mode,
        pages: round.pages,
        requests: round.requests,
        created: round.created,
        updated: round.updated,
        deleted: round.deleted,
      }),
    );
    return {
      status: 'completed',
      // Its every round is a full listing, not a recovered gap (shared/webhooks/silence.ts).
      mode: def.enumerates && mode === 'resync' ? 'delta' : mode,
      leaseId: lease.id,
      ...round.counts(),
      ...(job.resource === 'todo' ? { lists } : {}),
      ...(def.discovers
        ? {
            found: {
              resources: round.found,
              ...(followSince ? { since: followSince } : {}),
            },
          }
        : {}),
    };
  } catch (err) {
    if (err instanceof LeaseLost) throw err;
    const problem = err instanceof Problem ? err : undefined;
    if (problem && (problem.code === 'reauth_required' || problem.code === 'not_connected')) {
      // Nothing to retry until the user signs in again; connect enqueues a fresh round.
      await releaseLease(lease, { status: 'reauth_required', lastError: problem.code }).catch(
        () => undefined,
      );
      return { status: problem.code, mode, ...round.counts() };
    }
    const code = err instanceof GraphError ? `${err.status}:${err.code}` : problem ? problem.code : 'error';
    await releaseLease(lease, { status: 'failed', lastError: code, items: round.live }).catch(
      () => undefined,
    );
    throw err;
  }
}

/**
 * The round's first request: the saved deltaLink, a catch-up resource's saved instant
 * (`catchup:{ISO}`, returned as `after`), or the start of a full sync (a catch-up resource's starts
 * at `from`).
 */
function firstCall(
  def: ResourceDef,
  deltaLink: string | undefined,
  window: CalendarWindow | undefined,
  from: number,
): { first: GraphCall; after?: string } {
  if (def.catchUp) {
    const after = deltaLink?.startsWith(CATCH_UP)
      ? deltaLink.slice(CATCH_UP.length)
      : new Date(from - CATCH_UP_OVERLAP_MS).toISOString();
    return { first: def.catchUp(after), after };
  }
  return { first: deltaLink ? { method: 'GET', url: deltaLink } : def.initial(window) };
}

const CATCH_UP = 'catchup:';

interface FollowArgs {
  first: GraphCall;
  /** A catch-up resource's instant: this round asked for what changed after it. */
  after?: string | undefined;
  mode: RoundMode;
  stamp: string;
  /** In a baseline: items created at or after this instant (ms) are reported as created. */
  newSince: number | undefined;
  /** The user's object id, for summaries that say whether they are mentioned. */
  me: string | undefined;
  pageSize: number;
  options: RoundOptions;
  lists: { added: string[]; removed: string[] };
}

/** Follows nextLinks to the deltaLink, processing each page as it arrives; returns the deltaLink. */
async function followPages(
  job: SyncJob,
  def: ResourceDef,
  lease: Lease,
  round: RoundState,
  args: FollowArgs,
): Promise<string> {
  const fetchPage = (call: GraphCall) =>
    graphRequest<{
      value?: Item[];
      '@odata.nextLink'?: string;
      '@odata.deltaLink'?: string;
    }>(job.userId, {
      ...call,
      // Re-sent on every page: headers are not part of the nextLink (reference §4.1).
      headers: { Prefer: `odata.maxpagesize=${args.pageSize}` },
      ...(def.service === 'calendar' ? { timezone: 'UTC' } : {}),
    });
  let pending = fetchPage(args.first);
  for (;;) {
    const started = performance.now();
    const res = await pending;
    const fetched = performance.now();
    round.graphMs += fetched - started;
    round.requests++;
    round.pages++;
    // The next page is fetched while this one is written (two pages in memory at most). Its
    // failure, if any, surfaces when it is awaited, after this page is safely stored.
    const next = res.body['@odata.nextLink'];
    if (next) {
      pending = fetchPage({ method: 'GET', url: next });
      pending.catch(() => undefined);
    }
    await processPage(job, def, round, res.body.value ?? [], args);
    await renewLease(lease);
    round.storageMs += performance.now() - fetched;
    await args.options.afterPage?.(round.pages);
    if (next) continue;
    const delta = res.body['@odata.deltaLink'];
    if (def.catchUp) {
      // Next round: what changed after the newest seen here (less the overlap), or the same again.
      const seen = Date.parse(round.latest) - CATCH_UP_OVERLAP_MS;
      const asked = Date.parse(args.after ?? '');
      if (Number.isNaN(seen) || seen <= asked) return `${CATCH_UP}${args.after ?? ''}`;
      return `${CATCH_UP}${new Date(seen).toISOString()}`;
    }
    if (!delta) throw new Error('Delta response without @odata.nextLink or @odata.deltaLink');
    return delta;
  }
}

async function processPage(
  job: SyncJob,
  def: ResourceDef,
  round: RoundState,
  value: readonly Item[],
  args: FollowArgs,
): Promise<void> {
  // The same item can appear twice (replays, reference §5.1 item 4): the last one wins.
  const byId = new Map<string, Item>();
  for (const item of value) {
    if (typeof item?.id !== 'string' || !item.id || def.skip?.(item)) continue;
    byId.delete(item.id);
    byId.set(item.id, item);
  }
  if (byId.size === 0) return;
  round.items += byId.size;
  for (const item of byId.values()) {
    const modified = typeof item.lastModifiedDateTime === 'string' ? item.lastModifiedDateTime : '';
    if (modified > round.latest) round.latest = modified;
  }
  // A baseline has no index to compare with; everything else reads the rows of this page's ids.
  const known =
    args.mode === 'baseline'
      ? new Map<string, IndexedItem>()
      : await getIndexed(job.userId, job.resource, [...byId.keys()]);
  const at = new Date().toISOString();
  const changes: NewChange[] = [];
  const rows: IndexedItem[] = [];
  for (const [id, item] of byId) {
    const prev = known.get(id);
    if (def.isRemoved(item)) {
      // Removals of items we never indexed (e.g. calendarView's out-of-window @removed, event-delta.md) are noise.
      if (!prev || prev.deleted) continue;
      round.deleted++;
      round.live--;
      changes.push(change(job.resource, def, id, 'deleted', prev.version, prev.summary));
      rows.push({ ...prev, deleted: true, seenIn: args.stamp, seenAt: at });
      if (job.resource === 'todo') args.lists.removed.push(id);
      continue;
    }
    const version = def.version(item);
    const summary = def.summary(item, args.me);
    if (def.discovers && (!prev || prev.deleted || prev.version !== version)) {
      // In a first round, only what has news from when following began (or from now).
      const since = args.mode === 'baseline' ? (args.newSince ?? Date.now()) : undefined;
      const found = def.discovers(item, since);
      if (found) round.found.push(found);
    }
    if (!prev || prev.deleted) {
      round.live++;
      if (job.resource === 'todo') args.lists.added.push(id);
      if (args.mode !== 'baseline' || createdSince(def, item, args.newSince)) {
        round.created++;
        changes.push(change(job.resource, def, id, 'created', version, summary));
      }
    } else if (prev.version !== version) {
      round.updated++;
      changes.push(change(job.resource, def, id, 'updated', version, summary));
    } else if (args.mode === 'delta') {
      continue; // a replayed entry: nothing changed, nothing to write
    }
    rows.push({ id, version, deleted: false, summary, seenIn: args.stamp, seenAt: at });
  }
  // Feed first, index second: a crash in between replays the page and the markers dedupe it.
  if (!def.silent) round.entries += (await appendChanges(job.userId, changes)).length;
  await putIndexed(job.userId, job.resource, rows, { fresh: args.mode === 'baseline' });
}

/**
 * The sign-in that started following the resource. Baselines without it (a SharePoint library the
 * user chose, a timer's round) stay silent: what exists when following starts is not news. (A
 * receivedDateTime in whole seconds within the sign-in's own second counts as before it.)
 */
function instantOf(since: string | undefined): number | undefined {
  const at = Date.parse(since ?? '');
  return Number.isNaN(at) ? undefined : at;
}

function createdSince(def: ResourceDef, item: Item, since: number | undefined): boolean {
  if (since === undefined) return false;
  const created = Date.parse(def.createdAt(item));
  return !Number.isNaN(created) && created >= since;
}

function change(
  resource: ResourceKey,
  def: ResourceDef,
  id: string,
  type: 'created' | 'updated' | 'deleted',
  version: string,
  summary: NewChange['summary'],
): NewChange {
  return {
    service: def.service,
    resource,
    id,
    type,
    summary,
    dedupe: changeKeyOf(resource, id, type, version),
  };
}

/**
 * After a full resync: indexed items the enumeration did not return are gone. Calendar events
 * that merely left the (rolled) window are dropped from the index without an entry.
 */
async function reconcile(
  job: SyncJob,
  def: ResourceDef,
  round: RoundState,
  stamp: string,
  window: CalendarWindow | undefined,
  lists: { added: string[]; removed: string[] },
  quiet: boolean,
): Promise<void> {
  const batch: IndexedItem[] = [];
  const changes: NewChange[] = [];
  const at = new Date().toISOString();
  const flush = async () => {
    if (!def.silent) round.entries += (await appendChanges(job.userId, changes)).length;
    await putIndexed(job.userId, job.resource, batch);
    batch.length = 0;
    changes.length = 0;
  };
  for await (const item of unseenItems(job.userId, job.resource, stamp)) {
    const ended = typeof item.summary.end === 'string' ? Date.parse(item.summary.end) : NaN;
    const leftWindow = window !== undefined && !Number.isNaN(ended) && ended < Date.parse(window.start);
    if (!quiet) round.live--;
    batch.push({ ...item, deleted: true, seenIn: stamp, seenAt: at });
    if (!leftWindow && !quiet) {
      round.deleted++;
      changes.push(change(job.resource, def, item.id, 'deleted', item.version, item.summary));
      if (job.resource === 'todo') lists.removed.push(item.id);
    }
    if (batch.length >= 100) await flush();
  }
  await flush();
}
