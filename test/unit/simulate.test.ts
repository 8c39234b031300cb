import { emptyUnit, type Profile, type UnitMeasure, type Units } from '../../bench/cost-model';
import { DESIGNS, LIMITS, simulateDay } from '../../bench/simulate';

const unit = (
  roundTrips: Record<string, number>,
  executions: Record<string, number>,
  durationMs = 20,
): UnitMeasure => ({
  ...emptyUnit(),
  roundTrips,
  executions,
  durationMs,
});

/** Shaped like the measured units (bench/scale-units.json); a user has nine synced resources. */
function units(): Units {
  return {
    read: unit({ 'graph GET': 1, 'table:connections GET': 1, 'table:audit POST': 1 }, { mailActions: 1 }),
    write: unit({ 'graph POST': 1, 'table:audit POST': 1, 'queue:sync-jobs POST': 1 }, { todoActions: 1 }),
    change: unit(
      {
        'graph GET': 1,
        'queue:graph-notifications POST': 1,
        'queue:sync-jobs POST': 1,
        'table:items GET': 20,
        'table:feedticks PATCH': 1,
      },
      { graphWebhook: 1, syncWorker: 1 },
    ),
    syncRound: unit(
      { 'graph GET': 1, 'queue:sync-jobs POST': 1, 'table:syncstate PATCH': 10 },
      { syncWorker: 1 },
      22,
    ),
    reconcile: unit(
      { 'graph GET': 2, 'queue:subscription-renewals POST': 1, 'table:subscriptions GET': 4 },
      { renewal: 1 },
    ),
    renewal: unit({ 'graph PATCH': 1, 'table:subscriptions PATCH': 1 }, {}),
    tokenRefresh: { ...unit({ 'table:connections PUT': 1 }, {}), identity: 1 },
  };
}

const profile: Profile = {
  name: 'test',
  description: 'test',
  perDay: { read: 20, write: 5, change: 60, syncRound: 96, reconcile: 48, renewal: 1, tokenRefresh: 24 },
  indexedItems: 0,
  syncResources: { notified: 8, others: 1 },
};

test('a thousand users fit one account with every timer firing for everyone at once', () => {
  const r = simulateDay(units(), profile, DESIGNS.before(15), 1000);
  expect(r.crossed).toEqual([]);
  expect(r.hours).toHaveLength(24);
  // 9,000 sync-jobs messages at a tick are served at the queue's 2,000/s: a few seconds' wait.
  expect(r.worstWaitSeconds).toBeGreaterThan(0);
  expect(r.worstWaitSeconds).toBeLessThan(60);
  expect(Math.max(...r.hours.map((h) => h.queueMessagesPerSecond))).toBeLessThanOrEqual(
    LIMITS.queueMessagesPerSecond,
  );
});

test('a million users: the tick-aligned design overflows the queue and the account, and its work waits hours', () => {
  const r = simulateDay(units(), profile, DESIGNS.before(15), 1_000_000);
  expect(r.crossed.some((c) => c.startsWith('storage account at its'))).toBe(true);
  expect(r.crossed.some((c) => c.startsWith('work waited'))).toBe(true);
  // Served traffic never exceeds a limit (it waits instead); the backlog shows at the end of the day.
  expect(Math.max(...r.hours.map((h) => h.queueMessagesPerSecond))).toBeLessThanOrEqual(
    LIMITS.queueMessagesPerSecond * 1.0001,
  );
  expect(r.hours[23]!.backlog).toBeGreaterThan(0);
});

test('a million users: spreading the safety net by hash over an hour and sharding storage passes every limit', () => {
  const r = simulateDay(units(), profile, DESIGNS.after(8), 1_000_000);
  expect(r.crossed).toEqual([]);
  expect(r.worstWaitSeconds).toBeLessThan(60);
  // The same spread design on a single account is still too much for it.
  expect(simulateDay(units(), profile, DESIGNS.after(1), 1_000_000).crossed.length).toBeGreaterThan(0);
});
