/**
 * The cost of a connected user (issue 38), from units of work measured on the sandbox
 * (bench/scale.ts): what one action, one change, one timer tick per user, one renewal and one
 * token refresh cost in Function executions and time, Table and Queue Storage transactions, Key
 * Vault operations, Graph requests by throttling bucket and identity requests. A usage profile
 * says how many of each a user causes per day; the dated price table (bench/prices.json) turns
 * the sum into dollars per 1,000 users per month. Pure functions: the simulation
 * (bench/simulate.ts) and the unit test reuse them.
 */
import type { RoundTrips } from '../shared/meter';

/** What one unit of work cost, measured. */
export interface UnitMeasure {
  /** Function executions, by function name. */
  executions: Record<string, number>;
  /** Summed execution time of those executions (ms), as measured on the sandbox. */
  durationMs: number;
  /** Requests counted by shared/meter.ts: `table:<name> <METHOD>`, `queue:<name> POST`, `graph <METHOD>`, `keyvault <METHOD>`. */
  roundTrips: RoundTrips;
  /** Graph requests by throttling bucket (a `$batch`'s items each count, as Graph evaluates them). */
  graph: Record<string, number>;
  /** Token requests to the identity platform (MSAL's refreshes, not counted by the meter). */
  identity: number;
}

export const UNIT_NAMES = [
  'read',
  'write',
  'change',
  'syncRound',
  'reconcile',
  'renewal',
  'tokenRefresh',
] as const;
export type UnitName = (typeof UNIT_NAMES)[number];
export type Units = Record<UnitName, UnitMeasure>;

/** How often a user causes each unit, per day. */
export interface Profile {
  name: string;
  description: string;
  perDay: Record<UnitName, number>;
  /** Items the user's sync index holds (mailbox Inbox, calendar window, drive, contacts, tasks). */
  indexedItems: number;
  /** The user's synced resources: those Graph notifies about, and the others. */
  syncResources: { notified: number; others: number };
}

/** The timers' cadences (shared/config.ts): the sync tick, the safety net, reconciliation. */
export interface Cadence {
  intervalMinutes: number;
  safetyNetMinutes: number;
  reconcileMinutes: number;
}

/** Timer rounds a user causes per day: notified resources once per safety net, others every tick. */
export function syncRoundsPerDay(r: Profile['syncResources'], c: Cadence): number {
  return (
    r.notified * (1440 / Math.max(c.safetyNetMinutes, c.intervalMinutes)) +
    r.others * (1440 / c.intervalMinutes)
  );
}

/** Fixed per-user bytes, bytes per indexed item, per retained change, per audit entry. */
export interface StorageMeasure {
  userFixedBytes: number;
  bytesPerIndexedItem: number;
  bytesPerChange: number;
  bytesPerAuditEntry: number;
  changeRetentionDays: number;
}

export interface Prices {
  readOn: string;
  region: string;
  functions: {
    perGbSecond: number;
    perMillionExecutions: number;
    instanceMemoryGb: number;
    freeGbSecondsPerMonth: number;
    freeExecutionsPerMonth: number;
  };
  tableStorage: { perGbMonth: number; per10kTransactions: number };
  queueStorage: { per10kOperations: number };
  keyVault: { per10kOperations: number };
}

/**
 * Assumptions the counters cannot give, stated where the figures are printed. Executions are
 * billed for instance memory while they run; measured durations are on loopback (Graph in
 * microseconds), so Graph's and Storage's production latency is added per request, and every
 * execution is assumed alone on its instance (the upper bound: concurrent executions share it).
 */
export interface Assumptions {
  graphLatencyMs: number;
  storageLatencyMs: number;
  executionsSharingAnInstance: number;
  /** Queue operations per message received by the Functions host: a share of one GetMessages (batchSize 16) and a DeleteMessage. */
  hostQueueOpsPerMessage: number;
  daysPerMonth: number;
}

export const DEFAULT_ASSUMPTIONS: Assumptions = {
  graphLatencyMs: 150,
  storageLatencyMs: 8,
  executionsSharingAnInstance: 1,
  hostQueueOpsPerMessage: 1 + 1 / 16,
  daysPerMonth: 30,
};

export function emptyUnit(): UnitMeasure {
  return { executions: {}, durationMs: 0, roundTrips: {}, graph: {}, identity: 0 };
}

function addInto(target: Record<string, number>, source: Record<string, number>, times: number): void {
  for (const [k, v] of Object.entries(source)) target[k] = (target[k] ?? 0) + v * times;
}

/** `a + b × times` for every counter. */
export function addUnit(a: UnitMeasure, b: UnitMeasure, times = 1): UnitMeasure {
  const out: UnitMeasure = {
    executions: { ...a.executions },
    durationMs: a.durationMs + b.durationMs * times,
    roundTrips: { ...a.roundTrips },
    graph: { ...a.graph },
    identity: a.identity + b.identity * times,
  };
  addInto(out.executions, b.executions, times);
  addInto(out.roundTrips, b.roundTrips, times);
  addInto(out.graph, b.graph, times);
  return out;
}

/** `a − b`, floored at zero per counter (a unit measured as the difference of two runs). */
export function subtractUnit(a: UnitMeasure, b: UnitMeasure): UnitMeasure {
  const minus = (x: Record<string, number>, y: Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) {
      const v = (x[k] ?? 0) - (y[k] ?? 0);
      if (v > 0) out[k] = v;
    }
    return out;
  };
  return {
    executions: minus(a.executions, b.executions),
    durationMs: Math.max(0, a.durationMs - b.durationMs),
    roundTrips: minus(a.roundTrips, b.roundTrips),
    graph: minus(a.graph, b.graph),
    identity: Math.max(0, a.identity - b.identity),
  };
}

/** One user's day: every unit times its daily rate. */
export function userDay(units: Units, profile: Profile): UnitMeasure {
  let day = emptyUnit();
  for (const name of UNIT_NAMES) day = addUnit(day, units[name], profile.perDay[name]);
  return day;
}

const sumWhere = (r: RoundTrips, test: (name: string) => boolean): number =>
  Object.entries(r).reduce((n, [k, v]) => (test(k) ? n + v : n), 0);

/** The billable quantities of one user's day. */
export interface Quantities {
  executions: number;
  gbSeconds: number;
  tableTransactions: number;
  /** Messages sent plus the host's receive and delete of each. */
  queueOperations: number;
  keyVaultOperations: number;
  graphRequests: number;
  identityRequests: number;
  storedBytes: number;
}

export function quantities(
  day: UnitMeasure,
  profile: Profile,
  storage: StorageMeasure,
  prices: Prices,
  a: Assumptions = DEFAULT_ASSUMPTIONS,
): Quantities {
  const executions = Object.values(day.executions).reduce((n, v) => n + v, 0);
  const tableTransactions = sumWhere(day.roundTrips, (k) => k.startsWith('table:'));
  const messages = sumWhere(day.roundTrips, (k) => k.startsWith('queue:'));
  const graphRequests = sumWhere(day.roundTrips, (k) => k.startsWith('graph '));
  const busyMs =
    day.durationMs + graphRequests * a.graphLatencyMs + (tableTransactions + messages) * a.storageLatencyMs;
  const auditEntries = sumWhere(day.roundTrips, (k) => k === 'table:audit POST');
  return {
    executions,
    gbSeconds: ((busyMs / 1000) * prices.functions.instanceMemoryGb) / a.executionsSharingAnInstance,
    tableTransactions,
    queueOperations: messages * (1 + a.hostQueueOpsPerMessage),
    keyVaultOperations: sumWhere(day.roundTrips, (k) => k.startsWith('keyvault ')),
    graphRequests,
    identityRequests: day.identity,
    // What a user holds at steady state: fixed rows, the sync index, the change feed's retention
    // window, and a month of audit entries (audit has no retention yet: it grows by this monthly).
    storedBytes:
      storage.userFixedBytes +
      profile.indexedItems * storage.bytesPerIndexedItem +
      profile.perDay.change * storage.changeRetentionDays * storage.bytesPerChange +
      auditEntries * a.daysPerMonth * storage.bytesPerAuditEntry,
  };
}

export interface MonthlyCost {
  functionsExecutions: number;
  functionsCompute: number;
  tableTransactions: number;
  tableCapacity: number;
  queueOperations: number;
  keyVault: number;
  total: number;
}

/** Dollars per 1,000 users per month (list prices; the per-subscription free grants left out). */
export function monthlyCostPer1000(
  q: Quantities,
  prices: Prices,
  a: Assumptions = DEFAULT_ASSUMPTIONS,
): MonthlyCost {
  const month = 1000 * a.daysPerMonth;
  const cost = {
    functionsExecutions: ((q.executions * month) / 1e6) * prices.functions.perMillionExecutions,
    functionsCompute: q.gbSeconds * month * prices.functions.perGbSecond,
    tableTransactions: ((q.tableTransactions * month) / 1e4) * prices.tableStorage.per10kTransactions,
    tableCapacity: ((q.storedBytes * 1000) / 1e9) * prices.tableStorage.perGbMonth,
    queueOperations: ((q.queueOperations * month) / 1e4) * prices.queueStorage.per10kOperations,
    keyVault: ((q.keyVaultOperations * month) / 1e4) * prices.keyVault.per10kOperations,
  };
  return { ...cost, total: Object.values(cost).reduce((n, v) => n + v, 0) };
}

/**
 * Table Storage's billed size of an entity: 4 bytes + 2 per character of PartitionKey and RowKey
 * + per property 8 bytes + 2 per character of its name + its value (strings 4 + 2 per character,
 * binary 4 + length, numbers and dates 8, booleans 1). Azure Storage team, "How the size of an
 * entity is calculated" (Understanding Windows Azure Storage Billing, 2010; still the published rule).
 */
export function entityBytes(entity: Record<string, unknown>): number {
  const key = (v: unknown): number => (typeof v === 'string' ? v.length : 0);
  let n = 4 + 2 * (key(entity.partitionKey) + key(entity.rowKey));
  for (const [name, value] of Object.entries(entity)) {
    if (name === 'partitionKey' || name === 'rowKey' || name === 'etag') continue;
    if (name.startsWith('odata.')) continue;
    n += 8 + 2 * name.length;
    if (typeof value === 'string') n += 4 + 2 * value.length;
    else if (value instanceof Uint8Array) n += 4 + value.byteLength;
    else if (typeof value === 'boolean') n += 1;
    else n += 8;
  }
  return n;
}

/** The throttling bucket of a Graph path (docs/scale.md; graph-behaviour.md §2.3). */
export function graphBucket(path: string): string {
  const p = path.replace(/^\/(v1\.0|beta)/, '').toLowerCase();
  if (p === '/$batch') return 'batch envelope';
  if (p.startsWith('/subscriptions')) return 'subscriptions';
  const owner = /^\/(me|users\/[^/]+)(\/.*)?$/.exec(p);
  const rest = owner ? (owner[2] ?? '') : p;
  // Outlook's per-mailbox limit covers mail, calendar, contacts and To Do (outlookTask).
  if (
    /^\/(messages|mailfolders|sendmail|events|calendar|calendars|calendarview|calendargroups|contacts|contactfolders|todo|mailboxsettings|findmeetingtimes|outlook|inferenceclassification)\b/.test(
      rest,
    )
  )
    return 'outlook';
  if (/^\/(drive|drives|sites|followedsites)\b/.test(rest) || /^\/(drives|sites|shares)\//.test(p))
    return 'files';
  if (/^\/(chats|joinedteams|teamwork)\b/.test(rest) || /^\/(teams|chats)\//.test(p)) return 'teams';
  if (/^\/(people)\b/.test(rest)) return 'people';
  if (/^\/(planner)\b/.test(rest) || p.startsWith('/planner/')) return 'planner';
  if (owner && (rest === '' || /^\/(photo|manager|memberof|licensedetails)\b/.test(rest))) return 'directory';
  return 'other';
}
