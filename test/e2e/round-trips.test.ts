/**
 * Round trips per action (issue 38): what one action costs in requests to Table Storage, Queue
 * Storage, Key Vault and Graph, counted for its invocation (shared/meter.ts), equals the
 * budget recorded in test/budgets/round-trips.json. A change that adds a storage read or a Graph
 * request to an action's path fails here, naming the action and the new round trip; a change that
 * saves one fails too, so the budget is lowered with it and stays a true record (the cost model of
 * `npm run bench -- scale` is built from the same counters).
 *
 * Each action runs once first: table creation, the app's secrets and the caller's signing keys
 * are fetched once per instance and are not part of an action's cost.
 *
 * To record a deliberate change: `UPDATE_BUDGETS=1 npx jest test/e2e/round-trips.test.ts` writes
 * what was measured into the budget file (review the diff; it is the cost of the change).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resetConfig } from '../../shared/config';
import { onInvocationRoundTrips, type RoundTrips } from '../../shared/meter';
import { webhookStats } from '../../shared/webhooks/stats';
import { startTestApp, type TestApp } from '../support/app';
import { waitFor } from '../support/sandbox';

const ADELE = 'adele.vance@contoso.test';
const BUDGET_FILE = join(__dirname, '..', 'budgets', 'round-trips.json');
const budgets = JSON.parse(readFileSync(BUDGET_FILE, 'utf8')) as {
  note: string;
  actions: Record<string, RoundTrips>;
};
const updating = process.env.UPDATE_BUDGETS === '1';

let t: TestApp;
let userId: string;
const seen: Array<{ functionName: string; roundTrips: RoundTrips }> = [];
let stopListening: () => void;

beforeAll(async () => {
  // Each action as the first of its user on this instance for a while: the connection row is read
  // (a read within CONNECTION_RECHECK_SECONDS of the last is measured on its own, below).
  t = await startTestApp({ env: { CONNECTION_RECHECK_SECONDS: '0' } });
  userId = await t.connect(ADELE, { features: ['mail', 'todo'] });
  stopListening = onInvocationRoundTrips((functionName, _id, roundTrips) => {
    seen.push({ functionName, roundTrips });
  });
});
afterAll(async () => {
  stopListening();
  await t.stop();
  if (updating) writeFileSync(BUDGET_FILE, `${JSON.stringify(budgets, null, 2)}\n`);
});

/** The round trips of the one invocation of `functionName` that `run` causes. */
async function measure(functionName: string, run: () => Promise<Response>): Promise<RoundTrips> {
  seen.length = 0;
  const res = await run();
  expect(res.status).toBeLessThan(300);
  await res.text();
  const mine = await waitFor(() => {
    const found = seen.filter((s) => s.functionName === functionName);
    return found.length > 0 && found;
  });
  expect(mine).toHaveLength(1);
  return mine[0]!.roundTrips;
}

const sorted = (r: RoundTrips): RoundTrips =>
  Object.fromEntries(Object.entries(r).sort(([a], [b]) => a.localeCompare(b)));

/** todo.createTask on the default list with an Idempotency-Key. */
const createTask = (title: string, key: string) =>
  t.call(userId, 'POST', '/todo/createTask', { title }, { 'idempotency-key': key });

/**
 * Creates a task and waits until the change notification Graph sends for it has been processed
 * (the worker drops the user's To Do cache entries then): the measured create that follows sees
 * the state every create after the first one sees in production.
 */
async function createTaskAndItsNotification(title: string, key: string): Promise<Response> {
  const res = await createTask(title, key);
  const { id } = (await res.clone().json()) as { id: string };
  await waitFor(() => webhookStats.resourceIds.has(id), 15_000);
  return res;
}

const noCache = { 'cache-control': 'no-cache' };

interface Case {
  name: string;
  functionName: string;
  run: () => Promise<Response>;
  /** Run before the measured call (defaults to `run`): one-time work of the instance happens here. */
  warm?: () => Promise<Response>;
  /** CONNECTION_RECHECK_SECONDS for both calls (0 for the others). */
  recheckSeconds?: number;
}

const cases: Case[] = [
  {
    name: 'profile.getMe (read: connection row, Graph, audit)',
    functionName: 'profileActions',
    run: () => t.call(userId, 'POST', '/profile/getMe', {}, noCache),
  },
  {
    name: 'profile.getMe within the recheck bound of the last (no connection row read)',
    functionName: 'profileActions',
    recheckSeconds: 60,
    run: () => t.call(userId, 'POST', '/profile/getMe', {}, noCache),
  },
  {
    name: 'profile.getMe from the read cache',
    functionName: 'profileActions',
    run: () => t.call(userId, 'POST', '/profile/getMe', {}),
  },
  {
    name: 'mail.listMessages',
    functionName: 'mailActions',
    run: () => t.call(userId, 'POST', '/mail/listMessages', { top: 5 }, noCache),
  },
  {
    name: 'todo.createTask with an Idempotency-Key (write)',
    functionName: 'todoActions',
    warm: () => createTaskAndItsNotification('Warm up', 'round-trips-warm'),
    run: () => createTask('Budgeted', 'round-trips-create'),
  },
  {
    name: 'todo.createTask replayed with the same Idempotency-Key',
    functionName: 'todoActions',
    warm: () => createTask('Once', 'round-trips-replay'),
    run: () => createTask('Once', 'round-trips-replay'),
  },
  {
    name: 'batch of three reads (one Graph $batch)',
    functionName: 'batch',
    run: () =>
      t.call(
        userId,
        'POST',
        '/batch',
        {
          items: [
            { id: 'a', action: 'profile.getMe', input: {} },
            { id: 'b', action: 'mail.listFolders', input: {} },
            { id: 'c', action: 'mail.listMessages', input: { top: 5 } },
          ],
        },
        noCache,
      ),
  },
];

test.each(cases.map((c) => [c.name, c] as const))(
  '%s: round trips within the recorded budget',
  async (name, c) => {
    process.env.CONNECTION_RECHECK_SECONDS = String(c.recheckSeconds ?? 0);
    resetConfig();
    const warm = await (c.warm ?? c.run)();
    expect(warm.status).toBeLessThan(300);
    const measured = sorted(await measure(c.functionName, c.run));
    process.env.CONNECTION_RECHECK_SECONDS = '0';
    resetConfig();
    if (updating) budgets.actions[name] = measured;
    const budget = budgets.actions[name];
    // On a change: the numbers below are what the action now costs; update the budget with them
    // only when the new round trip is intended (and say why in the commit).
    expect({ action: name, roundTrips: measured }).toEqual({ action: name, roundTrips: budget });
  },
);
