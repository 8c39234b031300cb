/**
 * `npm run bench -- scale` (issue 38): what one connected user costs, from counters measured on
 * the sandbox, not guessed. One user (default features) is connected; then each unit of work runs
 * a few times, each run waited out until no function runs and no queue holds a message, and
 * everything the run caused is counted: Function executions and their time (shared/correlation.ts),
 * requests to Table Storage, Queue Storage, Key Vault and Graph (shared/meter.ts), Graph requests
 * by throttling bucket and token requests (the sandbox's request log). Units: a read action, a
 * write action (with what its own change notification causes), an incoming change (a mail
 * arriving: notification, queue hop, delta round), a sync timer tick and a renewal timer tick per
 * user, one subscription renewal, one token refresh. Bytes stored come from the rows Azurite holds
 * (Table Storage's entity size rule). bench/cost-model.ts turns units × a usage profile × the
 * dated prices (bench/prices.json) into dollars per 1,000 users per month.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TableClient, TableServiceClient } from '@azure/data-tables';
import { projectRoot, startAppHarness, type TestApp } from '../scripts/harness';
import { runningInvocations } from '../shared/correlation';
import { onInvocationRoundTrips, type RoundTrips } from '../shared/meter';
import {
  DEFAULT_FEATURES,
  DEFAULT_SUBSCRIPTION_RECONCILE_MINUTES,
  DEFAULT_SYNC_SAFETY_NET_MINUTES,
  getConfig,
} from '../shared/config';
import { getConnection } from '../shared/storage/connections';
import { isNotified, resourcesFor } from '../shared/sync/plan';
import { queueServiceClient } from '../shared/storage/clients';
import { CHANGES_QUEUE } from '../shared/sync/feed';
import {
  LIFETIME_MARGIN_MINUTES,
  MAX_LIFETIME_MINUTES,
  RENEW_WITHIN_MS,
  serviceOfKey,
} from '../shared/webhooks/resources';
import { listSubscriptions, updateSubscription } from '../shared/webhooks/store';
import {
  addUnit,
  DEFAULT_ASSUMPTIONS,
  emptyUnit,
  entityBytes,
  graphBucket,
  monthlyCostPer1000,
  quantities,
  subtractUnit,
  syncRoundsPerDay,
  UNIT_NAMES,
  type Cadence,
  userDay,
  type Prices,
  type Profile,
  type StorageMeasure,
  type UnitMeasure,
  type UnitName,
  type Units,
} from './cost-model';
import { round, type BenchResult } from './harness';
import { DESIGNS, DIURNAL, LIMITS, simulateDay, type SimulationResult } from './simulate';

const USER = 'adele.vance@contoso.test';
const SENDER = 'megan.bowen@contoso.test';
/** Timer functions run once per tick for all users; their scan of `connections` reads 1,000 rows a request. */
const FAN_OUT_TIMERS = new Set(['syncTimer', 'subscriptionRenewalTimer', 'tokenKeepAlive']);
const SCAN_PAGE = 1000;
/** Queue-triggered executions an instance runs at once (host.json queues.batchSize): the lower bound of billed memory time. */
const SHARED = 16;

export function loadPrices(): Prices & Record<string, unknown> {
  return JSON.parse(readFileSync(join(projectRoot(), 'bench', 'prices.json'), 'utf8')) as Prices &
    Record<string, unknown>;
}

interface Seen {
  functionName: string;
  roundTrips: RoundTrips;
  durationMs: number;
}

/** Counts everything that happens between start and stop. */
class Window {
  private readonly seen: Seen[] = [];
  private readonly stopListening: () => void;
  private readonly fromSeq: number;

  constructor(private readonly t: TestApp) {
    this.fromSeq = t.sandbox.log.lastSeq;
    this.stopListening = onInvocationRoundTrips((functionName, _id, roundTrips, durationMs) =>
      this.seen.push({ functionName, roundTrips, durationMs }),
    );
  }

  stop(): UnitMeasure {
    this.stopListening();
    let unit = emptyUnit();
    for (const s of this.seen) {
      const fanOut = FAN_OUT_TIMERS.has(s.functionName);
      const roundTrips = { ...s.roundTrips };
      // A timer's scan of all connections costs a user 1/1,000 of a page; its one execution per
      // tick is shared by every user (left out: it is constant, not per user).
      if (fanOut && roundTrips['table:connections GET'])
        roundTrips['table:connections GET'] = roundTrips['table:connections GET'] / SCAN_PAGE;
      unit = addUnit(unit, {
        executions: fanOut ? {} : { [s.functionName]: 1 },
        durationMs: s.durationMs,
        roundTrips,
        graph: {},
        identity: 0,
      });
    }
    for (const e of this.t.sandbox.log.since(this.fromSeq)) {
      if (e.headers['x-bench-setup']) continue; // the benchmark's own requests (a colleague's mail)
      if (/\/oauth2\/v2\.0\/token$/.test(e.path)) unit.identity += 1;
      else if (/^\/(v1\.0|beta)\//.test(e.path)) {
        const bucket = graphBucket(e.path);
        unit.graph[bucket] = (unit.graph[bucket] ?? 0) + 1;
      }
    }
    return unit;
  }
}

function scaleUnit(u: UnitMeasure, by: number): UnitMeasure {
  return addUnit(emptyUnit(), u, 1 / by);
}

/** Queues the app's own functions consume (the change feed's queue is the platform's to read). */
const consumed = (queue: string): boolean => queue !== CHANGES_QUEUE && !queue.endsWith('-poison');

async function pendingWork(): Promise<string> {
  const service = await queueServiceClient();
  const parts = [`running ${runningInvocations()}`];
  for await (const q of service.listQueues()) {
    const n = (await service.getQueueClient(q.name).getProperties()).approximateMessagesCount ?? 0;
    if (n) parts.push(`${q.name} ${n}`);
  }
  return parts.join(', ');
}

/** Waits until no function runs and no queue holds a message, three checks in a row. */
async function settle(timeoutMs = 60_000): Promise<void> {
  const service = await queueServiceClient();
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  while (quiet < 3) {
    if (Date.now() > deadline) throw new Error(`the app did not settle: ${await pendingWork()}`);
    await new Promise((r) => setTimeout(r, 250));
    let pending = runningInvocations();
    if (pending === 0) {
      for await (const q of service.listQueues()) {
        if (!consumed(q.name)) continue;
        const props = await service.getQueueClient(q.name).getProperties();
        pending += props.approximateMessagesCount ?? 0;
      }
    }
    quiet = pending === 0 ? quiet + 1 : 0;
  }
}

async function measure(t: TestApp, runs: number, run: (i: number) => Promise<void>): Promise<UnitMeasure> {
  await settle();
  const w = new Window(t);
  for (let i = 0; i < runs; i++) {
    await run(i);
    await settle();
  }
  return scaleUnit(w.stop(), runs);
}

async function ok(res: Response): Promise<void> {
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${res.url} answered ${res.status}: ${text.slice(0, 300)}`);
}

async function sendMailFrom(t: TestApp, from: string, to: string, subject: string): Promise<void> {
  const tokenRes = await fetch(`${t.sandbox.url}/_sandbox/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: from, scopes: ['Mail.Send'] }),
  });
  const { access_token } = (await tokenRes.json()) as { access_token: string };
  const res = await fetch(`${t.sandbox.graphBaseUrl}/me/sendMail`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${access_token}`,
      'content-type': 'application/json',
      'x-bench-setup': '1',
    },
    body: JSON.stringify({
      message: {
        subject,
        body: { contentType: 'text', content: 'A mail for the cost model.' },
        toRecipients: [{ emailAddress: { address: to } }],
      },
    }),
  });
  if (res.status !== 202) throw new Error(`sendMail answered ${res.status}`);
}

const noCache = { 'cache-control': 'no-cache' };

function readCalls(t: TestApp, userId: string): Array<() => Promise<Response>> {
  const start = new Date().toISOString();
  const end = new Date(Date.now() + 7 * 86_400_000).toISOString();
  return [
    () => t.call(userId, 'POST', '/profile/getMe', {}, noCache),
    () => t.call(userId, 'POST', '/mail/listMessages', { top: 10 }, noCache),
    () => t.call(userId, 'POST', '/calendar/listEvents', { start, end }, noCache),
    () => t.call(userId, 'POST', '/todo/listTasks', { top: 10 }, noCache),
  ];
}

/** Renewals a user's subscriptions need per day: each is renewed once per (lifetime − margin − window). */
function renewalsPerDay(keys: string[]): number {
  return keys.reduce((n, key) => {
    const every =
      MAX_LIFETIME_MINUTES[serviceOfKey(key)] - LIFETIME_MARGIN_MINUTES - RENEW_WITHIN_MS / 60_000;
    return n + 1440 / every;
  }, 0);
}

async function storageMeasure(
  storage: string,
): Promise<{ measure: StorageMeasure; byTable: Record<string, { rows: number; bytes: number }> }> {
  const service = TableServiceClient.fromConnectionString(storage, { allowInsecureConnection: true });
  const byTable: Record<string, { rows: number; bytes: number }> = {};
  for await (const table of service.listTables()) {
    const name = table.name ?? '';
    const client = TableClient.fromConnectionString(storage, name, { allowInsecureConnection: true });
    const agg = { rows: 0, bytes: 0 };
    for await (const entity of client.listEntities()) {
      agg.rows += 1;
      agg.bytes += entityBytes(entity);
    }
    byTable[name] = agg;
  }
  const per = (name: string) => {
    const t = byTable[name];
    return t && t.rows > 0 ? t.bytes / t.rows : 0;
  };
  const perUserTables = Object.entries(byTable).filter(
    ([name]) => !['items', 'changes', 'audit'].includes(name),
  );
  return {
    measure: {
      userFixedBytes: perUserTables.reduce((n, [, t]) => n + t.bytes, 0),
      bytesPerIndexedItem: per('items'),
      bytesPerChange: per('changes'),
      bytesPerAuditEntry: per('audit'),
      changeRetentionDays: getConfig().CHANGE_RETENTION_DAYS,
    },
    byTable,
  };
}

export interface ScaleMeasurement {
  units: Units;
  storage: StorageMeasure;
  byTable: Record<string, { rows: number; bytes: number }>;
  subscriptionKeys: string[];
  syncResources: Profile['syncResources'];
  /** The product's default cadence (the harness fires every timer for every user). */
  cadence: Cadence;
}

/** Measures every unit on a fresh harness (Azurite as the caller set it up). */
export async function measureScaleUnits(): Promise<ScaleMeasurement> {
  const t = await startAppHarness();
  try {
    // The product's default features (the harness's settings may ask for more).
    const userId = await t.connect(USER, { features: DEFAULT_FEATURES.split(',') });
    await settle();
    // Warm: one of each action, so one-time work of the instance (table creation, signing keys,
    // the app's secrets) is not part of any unit.
    for (const call of readCalls(t, userId)) await ok(await call());
    await ok(
      await t.call(
        userId,
        'POST',
        '/todo/createTask',
        { title: 'warm' },
        { 'idempotency-key': 'scale-warm-1' },
      ),
    );
    await settle();

    const reads = readCalls(t, userId);
    const read = await measure(t, 12, async (i) => await ok(await reads[i % reads.length]!()));
    const write = await measure(
      t,
      6,
      async (i) =>
        await ok(
          await t.call(
            userId,
            'POST',
            '/todo/createTask',
            { title: `Cost ${i}` },
            { 'idempotency-key': `scale-write-${i}` },
          ),
        ),
    );
    const change = await measure(t, 6, async (i) => await sendMailFrom(t, SENDER, USER, `Cost model ${i}`));
    // A tick runs a round of each of the user's resources (the harness makes them all due).
    const connection = (await getConnection(userId))!;
    const synced = await resourcesFor(connection);
    const syncResources = {
      notified: synced.filter((r) => isNotified(r, getConfig().TEAMS_CHAT_SUBSCRIPTIONS_ENABLED)).length,
      others: synced.filter((r) => !isNotified(r, getConfig().TEAMS_CHAT_SUBSCRIPTIONS_ENABLED)).length,
    };
    const tick = await measure(t, 3, async () => {
      await t.host.invoke('syncTimer');
    });
    const syncRound = scaleUnit(tick, synced.length);
    const reconcile = await measure(t, 3, async () => {
      await t.host.invoke('subscriptionRenewalTimer');
    });

    // One renewal: every subscription row expires within the renewal window, then one tick.
    const rows = await listSubscriptions(userId);
    const soon = new Date(Date.now() + RENEW_WITHIN_MS - 3600_000).toISOString();
    for (const r of rows) await updateSubscription(userId, r.subscriptionId, { expiresAt: soon });
    const tickWithRenewals = await measure(t, 1, async () => {
      await t.host.invoke('subscriptionRenewalTimer');
    });
    const renewed = (await listSubscriptions(userId)).filter((r) => r.expiresAt !== soon).length;
    if (renewed === 0) throw new Error('no subscription was renewed');
    const renewal = scaleUnit(subtractUnit(tickWithRenewals, reconcile), renewed);

    const { measure: storage, byTable } = await storageMeasure(t.storage);

    // One token refresh: a colleague connects while the sandbox issues access tokens that expire
    // within MSAL's 5-minute renewal offset, so each of their actions refreshes first; the same
    // action with a valid token is subtracted.
    const options = t.sandbox.options as { accessTokenLifetimeSeconds: number };
    const lifetime = options.accessTokenLifetimeSeconds;
    options.accessTokenLifetimeSeconds = 120;
    const refreshing = await t.connect(SENDER, { features: ['mail'] });
    await settle();
    const getMe = (who: string) => async () =>
      await ok(await t.call(who, 'POST', '/profile/getMe', {}, noCache));
    const withRefresh = await measure(t, 4, getMe(refreshing));
    options.accessTokenLifetimeSeconds = lifetime;
    const withoutRefresh = await measure(t, 4, getMe(userId));
    const tokenRefresh = subtractUnit(withRefresh, withoutRefresh);

    return {
      units: { read, write, change, syncRound, reconcile, renewal, tokenRefresh },
      storage,
      byTable,
      subscriptionKeys: rows.map((r) => r.key),
      syncResources,
      cadence: {
        intervalMinutes: getConfig().SYNC_INTERVAL_MINUTES,
        safetyNetMinutes: DEFAULT_SYNC_SAFETY_NET_MINUTES,
        reconcileMinutes: DEFAULT_SUBSCRIPTION_RECONCILE_MINUTES,
      },
    };
  } finally {
    await t.stop();
  }
}

/** The usage profiles the cost table is printed for. */
export function profiles(
  m: Pick<ScaleMeasurement, 'subscriptionKeys' | 'syncResources' | 'cadence'>,
  cadence: Cadence = m.cadence,
): Profile[] {
  const timers = {
    syncRound: syncRoundsPerDay(m.syncResources, cadence),
    reconcile: 1440 / cadence.reconcileMinutes,
    renewal: renewalsPerDay(m.subscriptionKeys),
    // Entra access tokens live 60–90 minutes; the 15-minute sync keeps using them, so about one
    // refresh an hour.
    tokenRefresh: 24,
  };
  return [
    {
      name: 'default',
      description:
        '20 reads and 5 writes a day through the assistant; 60 changes arrive (mail, events, files, chats)',
      perDay: { read: 20, write: 5, change: 60, ...timers },
      indexedItems: 5000,
      syncResources: m.syncResources,
    },
    {
      name: 'heavy',
      description: '300 reads and 60 writes a day; 600 changes arrive',
      perDay: { read: 300, write: 60, change: 600, ...timers },
      indexedItems: 50_000,
      syncResources: m.syncResources,
    },
  ];
}

const fmt = (n: number, digits = 2): string =>
  n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(digits).replace(/\.?0+$/, '') || '0';

const describeCounters = (u: UnitMeasure): string => {
  const parts = [
    ...Object.entries(u.executions).map(([k, v]) => `${k} ×${fmt(v)}`),
    ...Object.entries(u.roundTrips)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k} ${fmt(v, 3)}`),
    ...(u.identity ? [`identity token ${fmt(u.identity)}`] : []),
  ];
  return parts.join(', ') || '—';
};

/** The cost section of bench/results.md: the units behind it, then the table per profile. */
export function costMarkdown(m: ScaleMeasurement, prices: Prices): string {
  const lines = [
    `Prices: \`bench/prices.json\` (${prices.region}, list prices read on ${prices.readOn}). Assumptions: Graph ${DEFAULT_ASSUMPTIONS.graphLatencyMs} ms and storage ${DEFAULT_ASSUMPTIONS.storageLatencyMs} ms per request added to the measured execution time (loopback here), ${prices.functions.instanceMemoryGb} GB instances, each execution alone on its instance for the first dollar figure (an upper bound) and ${SHARED} sharing one for the second (host.json's queue batchSize; an instance is billed once while any of its executions runs), ${fmt(DEFAULT_ASSUMPTIONS.hostQueueOpsPerMessage + 1, 3)} queue operations per message (send, a 1/16 share of the host's GetMessages, delete). Per-subscription free grants not subtracted; the host's polling of idle queues (a fixed cost per instance, not per user) not included.`,
    '',
    '**Units, measured** (mean per unit; every request of every function the unit caused):',
    '',
    '| Unit | Executions and round trips | Graph by bucket | ms |',
    '|---|---|---|---|',
    ...UNIT_NAMES.map((name: UnitName) => {
      const u = m.units[name];
      const graph =
        Object.entries(u.graph)
          .map(([k, v]) => `${k} ${fmt(v)}`)
          .join(', ') || '—';
      return `| ${name} | ${describeCounters(u)} | ${graph} | ${fmt(u.durationMs, 1)} |`;
    }),
    '',
    `Stored: ${fmt(m.storage.userFixedBytes / 1024, 1)} KiB per user, ${fmt(m.storage.bytesPerIndexedItem)} B per indexed item, ${fmt(m.storage.bytesPerChange)} B per change kept ${m.storage.changeRetentionDays} days, ${fmt(m.storage.bytesPerAuditEntry)} B per audit entry (rows by table: ${Object.entries(
      m.byTable,
    )
      .map(([k, v]) => `${k} ${v.rows}`)
      .join(', ')}).`,
    '',
    `| Profile | Executions/day | GB-s/day | Table tx/day | Queue ops/day | Key Vault/day | Graph/day | Token refreshes/day | Stored MB | $ per 1,000 users per month (executions alone … ${SHARED} sharing an instance) |`,
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  const breakdowns: string[] = [];
  const shared = { ...DEFAULT_ASSUMPTIONS, executionsSharingAnInstance: SHARED };
  for (const profile of profiles(m)) {
    const day = userDay(m.units, profile);
    const q = quantities(day, profile, m.storage, prices);
    const cost = monthlyCostPer1000(q, prices);
    const low = monthlyCostPer1000(quantities(day, profile, m.storage, prices, shared), prices, shared);
    const graph = Object.entries(day.graph)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(', ');
    lines.push(
      `| ${profile.name}: ${profile.description} | ${fmt(q.executions)} | ${fmt(q.gbSeconds)} | ${fmt(q.tableTransactions)} | ${fmt(q.queueOperations)} | ${fmt(q.keyVaultOperations)} | ${fmt(q.graphRequests)} | ${fmt(q.identityRequests)} | ${fmt(q.storedBytes / 1e6)} | **$${cost.total.toFixed(2)}** … $${low.total.toFixed(2)} |`,
    );
    breakdowns.push(
      `- ${profile.name}: Functions executions $${cost.functionsExecutions.toFixed(2)}, compute $${cost.functionsCompute.toFixed(2)} … $${low.functionsCompute.toFixed(2)}, table transactions $${cost.tableTransactions.toFixed(2)}, table capacity $${cost.tableCapacity.toFixed(2)}, queue $${cost.queueOperations.toFixed(2)}, Key Vault $${cost.keyVault.toFixed(2)}; Graph by bucket per user per day: ${graph}`,
    );
  }
  lines.push('', ...breakdowns);
  // The same users at the cadence before the spread (every resource every tick, reconciliation
  // every 30 minutes): what the hash-spread safety net saves.
  const everyTick: Cadence = {
    ...m.cadence,
    safetyNetMinutes: m.cadence.intervalMinutes,
    reconcileMinutes: 30,
  };
  const earlier = profiles(m, everyTick).map((p) => {
    const day = userDay(m.units, p);
    const high = monthlyCostPer1000(quantities(day, p, m.storage, prices), prices).total;
    const low = monthlyCostPer1000(quantities(day, p, m.storage, prices, shared), prices, shared).total;
    return `${p.name} $${high.toFixed(2)} … $${low.toFixed(2)} (${fmt(Object.values(day.executions).reduce((a, b) => a + b, 0))} executions a day)`;
  });
  lines.push(
    '',
    `Timer cadence: a round of each notified resource (${m.syncResources.notified} here) every ${m.cadence.safetyNetMinutes} minutes, of the others (${m.syncResources.others}) every ${m.cadence.intervalMinutes}, reconciliation every ${m.cadence.reconcileMinutes}, spread by user hash. At the earlier cadence (every resource every ${m.cadence.intervalMinutes} minutes, reconciliation every 30): ${earlier.join('; ')}.`,
  );
  return lines.join('\n');
}

export async function scaleBench(): Promise<BenchResult[]> {
  const m = await measureScaleUnits();
  // The counters behind the cost table and the simulation, for review and re-simulation.
  writeFileSync(
    join(projectRoot(), 'bench', 'scale-units.json'),
    `${JSON.stringify({ measuredAt: new Date().toISOString(), ...m }, null, 2)}\n`,
  );
  const prices = loadPrices();
  const sim = simulationMarkdown(m);
  const [standard, heavy] = profiles(m).map((p) => {
    const q = quantities(userDay(m.units, p), p, m.storage, prices);
    return { q, cost: monthlyCostPer1000(q, prices) };
  });
  return [
    {
      name: 'cost per 1,000 connected users per month, default profile (Azure list prices)',
      value: round(standard!.cost.total),
      unit: 'USD',
      detail: {
        executionsPerUserDay: round(standard!.q.executions, 1),
        tableTransactionsPerUserDay: round(standard!.q.tableTransactions, 1),
        graphRequestsPerUserDay: round(standard!.q.graphRequests, 1),
        heavyProfileUsd: round(heavy!.cost.total),
        pricesReadOn: prices.readOn,
        model: 'bench/cost-model.ts; table below',
      },
      section: {
        title: 'Cost per connected user (npm run bench -- scale)',
        markdown: costMarkdown(m, prices),
      },
    },
    {
      name: 'a day at 1,000,000 users, simulated: limits crossed, today’s design vs the spread and sharded one',
      value: sim.before.crossed.length,
      unit: 'limits crossed (before)',
      detail: {
        after: sim.after.crossed.length,
        storageAccountsAfter: sim.after.design.storageAccounts,
        longestWaitMinutesBefore: round(sim.before.worstWaitSeconds / 60, 0),
        longestWaitMinutesAfter: round(sim.after.worstWaitSeconds / 60, 1),
        model: 'bench/simulate.ts; tables below and docs/scale.md',
      },
      section: {
        title: 'A day at 1,000,000 users, simulated (npm run bench -- scale)',
        markdown: sim.markdown,
      },
    },
  ];
}

const num = (n: number): string => Math.round(n).toLocaleString('en-US');

function hourTable(r: SimulationResult): string[] {
  return [
    '| Hour (UTC) | Account req/s (peak, one account) | Busiest queue msg/s | Hot partition entities/s | Graph req/s (app) | Function instances | Key Vault ops/10 s | Backlog at hour end (units) | Oldest waiting |',
    '|---|---|---|---|---|---|---|---|---|',
    ...r.hours.map(
      (h) =>
        `| ${String(h.hour).padStart(2, '0')}:00 | ${num(h.accountRequestsPerSecond)} | ${num(h.queueMessagesPerSecond)}${h.busiestQueue ? ` (${h.busiestQueue})` : ''} | ${num(h.hotPartitionPerSecond)} | ${num(h.graphRequestsPerSecond)} | ${num(h.functionInstances)} | ${num(h.keyVaultPer10Seconds)} | ${num(h.backlog)} | ${num(h.oldestWaitSeconds / 60)} min |`,
    ),
  ];
}

/** Before and after at a million users (default profile); the smallest account count that passes. */
export function simulationMarkdown(
  m: ScaleMeasurement,
  users = 1_000_000,
): { markdown: string; after: SimulationResult; before: SimulationResult } {
  const profile = profiles(m)[0]!;
  const before = simulateDay(m.units, profile, DESIGNS.before(m.cadence.intervalMinutes), users);
  let after = simulateDay(m.units, profile, DESIGNS.after(1), users);
  for (const accounts of [2, 4, 8, 16, 32]) {
    if (after.crossed.length === 0) break;
    after = simulateDay(m.units, profile, DESIGNS.after(accounts), users);
  }
  const summary = (r: SimulationResult) =>
    `**${r.design.name}** (${num(users)} users, ${profile.name} profile): ${r.crossed.length ? `limits crossed: ${r.crossed.join('; ')}` : 'no limit crossed'}; longest wait ${num(r.worstWaitSeconds / 60)} min.`;
  const markdown = [
    `Limits (docs/scale.md): storage account ${num(LIMITS.accountRequestsPerSecond)} requests/s, a partition ${num(LIMITS.partitionEntitiesPerSecond)} entities/s, a queue ${num(LIMITS.queueMessagesPerSecond)} messages/s, Graph ${num(LIMITS.graphAppRequestsPerSecond)} requests/s per app, ${num(LIMITS.functionInstances)} Function instances, Key Vault ${num(LIMITS.keyVaultPer10Seconds)} operations per 10 s. Actions and changes follow a working day (peak ${Math.max(...DIURNAL).toFixed(1)}× the mean at 09:00–10:00 UTC); served traffic never exceeds a limit in the simulation: what does not fit waits, and the wait is the finding.`,
    '',
    summary(before),
    '',
    ...hourTable(before),
    '',
    summary(after),
    '',
    ...hourTable(after),
  ].join('\n');
  return { markdown, after, before };
}
