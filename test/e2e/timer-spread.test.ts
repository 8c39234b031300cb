/**
 * The timers at scale (docs/scale.md, "Spread timers by user hash"): with the product's settings a
 * sync tick queues a user's notified resources only in the user's turn (once per safety-net
 * period) and the others every tick, each job delayed by the user's spread; the renewal tick
 * queues a user's reconciliation once per SUBSCRIPTION_RECONCILE_MINUTES. The harness runs every
 * other test with everything due at every tick (scripts/harness.ts).
 */
import { resetConfig } from '../../shared/config';
import { queueClient } from '../../shared/storage/clients';
import { shardOf, shardSetting } from '../../shared/shards';
import { getConnection, type Connection } from '../../shared/storage/connections';
import { SYNC_JOBS_QUEUE } from '../../shared/sync/jobs';
import { listSyncStates } from '../../shared/sync/state';
import { fanOutSync, isNotified, resourcesFor, userTurn } from '../../shared/sync/plan';
import { fanOutRenewals, RENEWALS_QUEUE } from '../../shared/webhooks/renewal';
import { startTestApp, type TestApp } from '../support/app';
import { waitFor, waitForQuiet } from '../support/sandbox';

const PRODUCT = {
  SYNC_SAFETY_NET_MINUTES: '60',
  TIMER_SPREAD_MINUTES: '15',
  SUBSCRIPTION_RECONCILE_MINUTES: '120',
};
const TICK = 15 * 60_000;

let t: TestApp;
let connection: Connection;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  t = await startTestApp();
  // A fixed user id: its hash (turn and delay) is the same every run.
  const userId = await t.connect('lee.gu@contoso.test', {
    features: ['mail', 'calendar', 'files', 'contacts', 'todo'],
    userId: 'timer-spread-user',
  });
  connection = (await getConnection(userId))!;
  // The connect's first rounds discover resources (the To Do round finds the lists, whose own
  // rounds then follow): the plan below must see them all, not race them.
  await waitFor(async () => {
    const states = await listSyncStates(userId);
    return states.some((s) => s.resource.startsWith('todo:')) && states.every((s) => s.lastSuccessAt);
  }, 30_000);
  await waitForQuiet(t.sandbox);
  for (const [k, v] of Object.entries(PRODUCT)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  resetConfig();
});
afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  resetConfig();
  await t.stop();
});

/**
 * This user's messages a consumer could take from the queue now (taken for a second, then back):
 * a delayed message is invisible until its time.
 */
async function receivable(queue: string): Promise<number> {
  // (In the user's storage account: shared/shards.ts.)
  const got = await (
    await queueClient(queue, shardSetting(shardOf(connection.userId)))
  ).receiveMessages({ numberOfMessages: 32, visibilityTimeout: 1 });
  return got.receivedMessageItems.filter((m) =>
    Buffer.from(m.messageText, 'base64').toString('utf8').includes(connection.userId),
  ).length;
}

test('a sync tick queues the notified resources in the user’s turn only, the others every tick, all delayed by the user’s spread', async () => {
  const resources = await resourcesFor(connection);
  const notified = resources.filter((r) => isNotified(r, false));
  expect(notified.length).toBeGreaterThanOrEqual(4); // Inbox, calendar, drive, contacts
  const others = resources.length - notified.length;
  let jobs = 0;
  for (let k = 0; k < 4; k++) jobs += (await fanOutSync([connection], (1000 + k) * TICK)).jobs;
  expect(jobs).toBe(notified.length + 4 * others);
  const { delaySeconds } = userTurn(connection.userId, 1000 * TICK, 15, 60, 15);
  expect(delaySeconds).toBeGreaterThan(0); // this user's hash (1 in 900 ids has none)
  expect(await receivable(SYNC_JOBS_QUEUE)).toBe(0);
});

test('a renewal tick queues the user’s reconciliation once per two hours', async () => {
  let queued = 0;
  for (let k = 0; k < 4; k++) queued += await fanOutRenewals([connection], (2000 + k) * 30 * 60_000);
  expect(queued).toBe(1);
  for (let k = 4; k < 8; k++) queued += await fanOutRenewals([connection], (2000 + k) * 30 * 60_000);
  expect(queued).toBe(2);
  const { delaySeconds } = userTurn(connection.userId, 2000 * 30 * 60_000, 30, 120, 15);
  expect(delaySeconds).toBeGreaterThan(0);
  expect(await receivable(RENEWALS_QUEUE)).toBe(0);
});
