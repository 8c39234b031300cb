/**
 * The design at a million users, simulated (issue 38): one day in virtual time, second by second,
 * in process (no real requests). The work comes from the units measured on the sandbox
 * (bench/scale.ts) at the rates of a usage profile (bench/cost-model.ts): actions and incoming
 * changes follow a working day's curve, timer work lands as the design schedules it. Each queue
 * and storage account serves at most its documented rate; what cannot be served waits (the
 * backlog, and how old its oldest work gets). Per hour the simulation reports the peak demand on
 * each limit docs/scale.md names: storage account transactions/s, messages/s per queue, entities/s
 * on the hottest partition, Graph requests/s for the app, Function instances, Key Vault operations.
 */
import {
  DEFAULT_ASSUMPTIONS,
  syncRoundsPerDay,
  type Profile,
  type UnitMeasure,
  type UnitName,
  type Units,
} from './cost-model';
import { DEFAULT_SUBSCRIPTION_RECONCILE_MINUTES, DEFAULT_SYNC_SAFETY_NET_MINUTES } from '../shared/config';

/** Documented limits (docs/scale.md has the sources). */
export const LIMITS = {
  /** Standard storage account, requests per second. */
  accountRequestsPerSecond: 20_000,
  /** One table partition, entities per second. */
  partitionEntitiesPerSecond: 2_000,
  /** One queue, 1 KiB messages per second. */
  queueMessagesPerSecond: 2_000,
  /** Graph, per app across all tenants: 130,000 requests per 10 s. */
  graphAppRequestsPerSecond: 13_000,
  /** Flex Consumption maximum instance count per app. */
  functionInstances: 1_000,
  /** Key Vault secret operations per vault per 10 s. */
  keyVaultPer10Seconds: 4_000,
};

export interface Design {
  name: string;
  /** The sync timer's tick: resources without notifications get a round every tick. */
  intervalMinutes: number;
  /** Minutes between timer rounds of a resource Graph notifies about (the safety net). */
  syncEveryMinutes: number;
  /** Minutes between a user's subscription reconciliations. */
  renewalEveryMinutes: number;
  /** Timer work lands at the tick for every user (false) or spread over the interval by user hash (true). */
  spread: boolean;
  /** Storage accounts the users are sharded across by hash (each with its tables and queues). */
  storageAccounts: number;
  /** Ticks (feed push signals) partition: one per second (1) or one per second and shard. */
  tickPartitionShards: number;
}

/** Share of a day's actions and changes in each hour (UTC, a working day in one region); mean 1. */
const DIURNAL_RAW = [
  0.3, 0.2, 0.2, 0.2, 0.3, 0.5, 0.9, 1.5, 2.0, 2.2, 2.2, 2.0, 1.8, 2.0, 2.1, 2.0, 1.7, 1.3, 0.9, 0.7, 0.6,
  0.5, 0.4, 0.3,
];
const mean = DIURNAL_RAW.reduce((a, b) => a + b, 0) / 24;
export const DIURNAL = DIURNAL_RAW.map((w) => w / mean);

export interface HourRow {
  hour: number;
  /** Peak requests/s on one storage account (tables, queue sends and the host's receives). */
  accountRequestsPerSecond: number;
  /** Peak messages/s on the busiest queue of one account. */
  queueMessagesPerSecond: number;
  busiestQueue: string;
  /** Peak entity writes/s on the hottest partition (the ticks of one second). */
  hotPartitionPerSecond: number;
  graphRequestsPerSecond: number;
  functionInstances: number;
  keyVaultPer10Seconds: number;
  /** Work waiting at the end of the hour, in units, and the age of the oldest (s). */
  backlog: number;
  oldestWaitSeconds: number;
}

export interface SimulationResult {
  design: Design;
  users: number;
  hours: HourRow[];
  /** Each limit crossed, with its worst figure. */
  crossed: string[];
  /** Longest any timer or change work waited (s). */
  worstWaitSeconds: number;
  /** Seconds of the day one account was asked for more than it serves. */
  saturatedSeconds: number;
}

interface Source {
  unit: UnitName;
  /** Units arriving in second s of the day. */
  arrivals(s: number): number;
  backlog: number;
  /** What arrived and still waits, oldest first from `head` (FIFO by the batches that arrived). */
  waiting: Array<{ at: number; n: number }>;
  head: number;
}

const queuesOf = (u: UnitMeasure): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(u.roundTrips)) {
    const m = /^queue:(.+) POST$/.exec(k);
    if (m) out[m[1]!] = (out[m[1]!] ?? 0) + v;
  }
  return out;
};

const sum = (r: Record<string, number>, test: (k: string) => boolean): number =>
  Object.entries(r).reduce((n, [k, v]) => (test(k) ? n + v : n), 0);

/** Per unit: requests on its storage account, Graph requests, executions, busy seconds, tick writes. */
function costOf(u: UnitMeasure) {
  const table = sum(u.roundTrips, (k) => k.startsWith('table:'));
  const sends = sum(u.roundTrips, (k) => k.startsWith('queue:'));
  const graph = sum(u.roundTrips, (k) => k.startsWith('graph '));
  const executions = Object.values(u.executions).reduce((a, b) => a + b, 0);
  const busyMs =
    u.durationMs +
    graph * DEFAULT_ASSUMPTIONS.graphLatencyMs +
    (table + sends) * DEFAULT_ASSUMPTIONS.storageLatencyMs;
  return {
    requests: table + sends * (1 + DEFAULT_ASSUMPTIONS.hostQueueOpsPerMessage),
    graph,
    executions,
    busySeconds: busyMs / 1000,
    ticks: u.roundTrips['table:feedticks PATCH'] ?? 0,
    queues: queuesOf(u),
  };
}

/** Units per second a timer of this period brings: all at its tick, or evenly over the period. */
function timer(users: number, periodMinutes: number, spread: boolean): (s: number) => number {
  const period = Math.round(periodMinutes * 60);
  if (spread) return () => users / period;
  return (s) => (s % period === 0 ? users : 0);
}

const flat = (users: number, perDay: number) => () => (users * perDay) / 86_400;
const diurnal = (users: number, perDay: number) => (s: number) =>
  (users * perDay * DIURNAL[Math.floor(s / 3600)]!) / 86_400;

export function simulateDay(units: Units, profile: Profile, design: Design, users: number): SimulationResult {
  const perAccount = users / design.storageAccounts;
  const cadence = {
    intervalMinutes: design.intervalMinutes,
    safetyNetMinutes: design.syncEveryMinutes,
    reconcileMinutes: design.renewalEveryMinutes,
  };
  // Spread: a flat line of rounds. At the tick: every due round of every user in that second
  // (with the safety net at the interval, all of them every tick).
  const rounds = design.spread
    ? flat(perAccount, syncRoundsPerDay(profile.syncResources, cadence))
    : timer(
        (perAccount * syncRoundsPerDay(profile.syncResources, cadence)) / (1440 / design.intervalMinutes),
        design.intervalMinutes,
        false,
      );
  const sources: Source[] = [
    { unit: 'read', arrivals: diurnal(perAccount, profile.perDay.read), backlog: 0, waiting: [], head: 0 },
    { unit: 'write', arrivals: diurnal(perAccount, profile.perDay.write), backlog: 0, waiting: [], head: 0 },
    {
      unit: 'change',
      arrivals: diurnal(perAccount, profile.perDay.change),
      backlog: 0,
      waiting: [],
      head: 0,
    },
    {
      unit: 'syncRound',
      arrivals: rounds,
      backlog: 0,
      waiting: [],
      head: 0,
    },
    {
      unit: 'reconcile',
      arrivals: timer(perAccount, design.renewalEveryMinutes, design.spread),
      backlog: 0,
      waiting: [],
      head: 0,
    },
    { unit: 'renewal', arrivals: flat(perAccount, profile.perDay.renewal), backlog: 0, waiting: [], head: 0 },
    {
      unit: 'tokenRefresh',
      arrivals: flat(perAccount, profile.perDay.tokenRefresh),
      backlog: 0,
      waiting: [],
      head: 0,
    },
  ];
  const costs = Object.fromEntries(sources.map((s) => [s.unit, costOf(units[s.unit])])) as Record<
    UnitName,
    ReturnType<typeof costOf>
  >;

  const hours: HourRow[] = [];
  let worstWait = 0;
  let saturatedSeconds = 0;
  let row = blankRow(0);
  for (let s = 0; s < 86_400; s++) {
    if (s % 3600 === 0 && s > 0) {
      hours.push(finish(row, sources, s));
      row = blankRow(s / 3600);
    }
    for (const src of sources) {
      const n = src.arrivals(s);
      if (n > 0) {
        src.backlog += n;
        src.waiting.push({ at: s, n });
      }
    }
    // What each queue and the account would carry if every waiting unit ran this second.
    const queueDemand: Record<string, number> = {};
    let accountDemand = 0;
    for (const src of sources) {
      const c = costs[src.unit];
      for (const [q, m] of Object.entries(c.queues)) queueDemand[q] = (queueDemand[q] ?? 0) + src.backlog * m;
      accountDemand += src.backlog * c.requests;
    }
    // Served: each queue and the account at most at their rate; a source is slowed by its tightest.
    const accountFactor = Math.min(1, LIMITS.accountRequestsPerSecond / Math.max(accountDemand, 1e-9));
    if (accountFactor < 1) saturatedSeconds += 1;
    const served = { requests: 0, graph: 0, busy: 0, ticks: 0, queues: {} as Record<string, number> };
    for (const src of sources) {
      const c = costs[src.unit];
      let factor = accountFactor;
      for (const q of Object.keys(c.queues))
        factor = Math.min(factor, LIMITS.queueMessagesPerSecond / Math.max(queueDemand[q]!, 1e-9));
      const n = src.backlog * Math.min(1, factor);
      take(src, n);
      served.requests += n * c.requests;
      served.graph += n * c.graph;
      served.busy += n * c.busySeconds;
      served.ticks += n * c.ticks;
      for (const [q, m] of Object.entries(c.queues)) served.queues[q] = (served.queues[q] ?? 0) + n * m;
      const first = oldest(src);
      if (first) worstWait = Math.max(worstWait, s - first.at);
    }
    row.accountRequestsPerSecond = Math.max(row.accountRequestsPerSecond, served.requests);
    for (const [q, m] of Object.entries(served.queues))
      if (m > row.queueMessagesPerSecond) {
        row.queueMessagesPerSecond = m;
        row.busiestQueue = q;
      }
    row.hotPartitionPerSecond = Math.max(
      row.hotPartitionPerSecond,
      served.ticks / design.tickPartitionShards,
    );
    // Graph and Functions are per app: every account's share together.
    row.graphRequestsPerSecond = Math.max(row.graphRequestsPerSecond, served.graph * design.storageAccounts);
    const instances = Math.ceil((served.busy * design.storageAccounts) / 16);
    row.functionInstances = Math.max(row.functionInstances, instances);
    // Each instance reads the app's secrets when it starts and every 5 minutes (3 secrets).
    row.keyVaultPer10Seconds = Math.max(row.keyVaultPer10Seconds, (instances * 3 * 10) / 300);
  }
  hours.push(finish(row, sources, 86_400));

  const crossed: string[] = [];
  const worst = (f: (h: HourRow) => number) => Math.max(...hours.map(f));
  const check = (name: string, value: number, limit: number) => {
    if (value > limit * 1.0001)
      crossed.push(
        `${name}: ${Math.round(value).toLocaleString('en-US')} > ${limit.toLocaleString('en-US')}`,
      );
  };
  // A queue absorbs a burst (that is its job); an account asked for more than it serves for more
  // than 1% of the day throttles everything on it, interactive actions included.
  if (saturatedSeconds > 864)
    crossed.push(
      `storage account at its ${LIMITS.accountRequestsPerSecond.toLocaleString('en-US')} requests/s for ${Math.round(saturatedSeconds / 60).toLocaleString('en-US')} minutes of the day`,
    );
  check(
    'messages/s on one queue',
    worst((h) => h.queueMessagesPerSecond),
    LIMITS.queueMessagesPerSecond,
  );
  check(
    'entities/s on one partition (feed ticks)',
    worst((h) => h.hotPartitionPerSecond),
    LIMITS.partitionEntitiesPerSecond,
  );
  check(
    'Graph requests/s for the app',
    worst((h) => h.graphRequestsPerSecond),
    LIMITS.graphAppRequestsPerSecond,
  );
  check(
    'Function instances',
    worst((h) => h.functionInstances),
    LIMITS.functionInstances,
  );
  check(
    'Key Vault operations per 10 s',
    worst((h) => h.keyVaultPer10Seconds),
    LIMITS.keyVaultPer10Seconds,
  );
  if (worstWait > 15 * 60)
    crossed.push(
      `work waited ${Math.round(worstWait / 60)} minutes for capacity (more than a sync interval)`,
    );
  return { design, users, hours, crossed, worstWaitSeconds: worstWait, saturatedSeconds };
}

function take(src: Source, n: number): void {
  src.backlog = Math.max(0, src.backlog - n);
  let left = n;
  while (left > 1e-9 && src.head < src.waiting.length) {
    const first = src.waiting[src.head]!;
    if (first.n <= left) {
      left -= first.n;
      src.head += 1;
    } else {
      first.n -= left;
      left = 0;
    }
  }
}

const oldest = (src: Source) => src.waiting[src.head];

function blankRow(hour: number): HourRow {
  return {
    hour,
    accountRequestsPerSecond: 0,
    queueMessagesPerSecond: 0,
    busiestQueue: '',
    hotPartitionPerSecond: 0,
    graphRequestsPerSecond: 0,
    functionInstances: 0,
    keyVaultPer10Seconds: 0,
    backlog: 0,
    oldestWaitSeconds: 0,
  };
}

function finish(row: HourRow, sources: Source[], s: number): HourRow {
  row.backlog = sources.reduce((n, src) => n + src.backlog, 0);
  row.oldestWaitSeconds = Math.max(0, ...sources.map((src) => s - (oldest(src)?.at ?? s)));
  return row;
}

/** Today's design and the one docs/scale.md proposes, for the table. */
export const DESIGNS = {
  before: (intervalMinutes: number): Design => ({
    name: 'before: every user at each tick, one storage account',
    intervalMinutes,
    syncEveryMinutes: intervalMinutes,
    renewalEveryMinutes: 30,
    spread: false,
    storageAccounts: 1,
    tickPartitionShards: 1,
  }),
  after: (storageAccounts: number, intervalMinutes = 15): Design => ({
    name: `after: hourly safety net and 2-hourly reconciliation spread by user hash, ${storageAccounts} storage accounts`,
    intervalMinutes,
    syncEveryMinutes: DEFAULT_SYNC_SAFETY_NET_MINUTES,
    renewalEveryMinutes: DEFAULT_SUBSCRIPTION_RECONCILE_MINUTES,
    spread: true,
    storageAccounts,
    tickPartitionShards: 1,
  }),
};
