import {
  DEFAULT_ASSUMPTIONS,
  emptyUnit,
  entityBytes,
  graphBucket,
  monthlyCostPer1000,
  quantities,
  subtractUnit,
  syncRoundsPerDay,
  UNIT_NAMES,
  userDay,
  type Prices,
  type Profile,
  type StorageMeasure,
  type Units,
} from '../../bench/cost-model';

const prices: Prices = {
  readOn: '2026-12-07',
  region: 'test',
  functions: {
    perGbSecond: 0.00002,
    perMillionExecutions: 0.5,
    instanceMemoryGb: 2,
    freeGbSecondsPerMonth: 0,
    freeExecutionsPerMonth: 0,
  },
  tableStorage: { perGbMonth: 0.05, per10kTransactions: 0.001 },
  queueStorage: { per10kOperations: 0.01 },
  keyVault: { per10kOperations: 0.03 },
};

const storage: StorageMeasure = {
  userFixedBytes: 1000,
  bytesPerIndexedItem: 10,
  bytesPerChange: 100,
  bytesPerAuditEntry: 50,
  changeRetentionDays: 30,
};

function units(): Units {
  const u = {} as Units;
  for (const name of UNIT_NAMES) u[name] = emptyUnit();
  u.read = {
    executions: { mailActions: 1 },
    durationMs: 10,
    roundTrips: { 'graph GET': 1, 'table:connections GET': 1, 'table:audit POST': 1 },
    graph: { outlook: 1 },
    identity: 0,
  };
  u.change = {
    executions: { graphWebhook: 1, syncWorker: 1 },
    durationMs: 40,
    roundTrips: { 'graph GET': 1, 'queue:sync-jobs POST': 1, 'table:items GET': 2 },
    graph: { outlook: 1 },
    identity: 0,
  };
  u.tokenRefresh = { ...emptyUnit(), roundTrips: { 'table:connections PUT': 1 }, identity: 1 };
  return u;
}

const profile: Profile = {
  name: 'test',
  description: 'test',
  perDay: { read: 10, write: 0, change: 5, syncRound: 0, reconcile: 0, renewal: 0, tokenRefresh: 24 },
  indexedItems: 100,
  syncResources: { notified: 5, others: 1 },
};

test('a user day is every unit times its daily rate', () => {
  const day = userDay(units(), profile);
  expect(day.executions).toEqual({ mailActions: 10, graphWebhook: 5, syncWorker: 5 });
  expect(day.roundTrips['graph GET']).toBe(15);
  expect(day.roundTrips['table:connections PUT']).toBe(24);
  expect(day.graph).toEqual({ outlook: 15 });
  expect(day.identity).toBe(24);
  expect(day.durationMs).toBe(10 * 10 + 5 * 40);
});

test('quantities: storage transactions, queue operations with the host side, billed time, bytes held', () => {
  const q = quantities(userDay(units(), profile), profile, storage, prices);
  expect(q.executions).toBe(20);
  // reads: connections + audit = 20; changes: items 10; refreshes: 24
  expect(q.tableTransactions).toBe(54);
  expect(q.queueOperations).toBeCloseTo(5 * (1 + DEFAULT_ASSUMPTIONS.hostQueueOpsPerMessage));
  expect(q.graphRequests).toBe(15);
  const busyMs =
    300 + 15 * DEFAULT_ASSUMPTIONS.graphLatencyMs + (54 + 5) * DEFAULT_ASSUMPTIONS.storageLatencyMs;
  expect(q.gbSeconds).toBeCloseTo((busyMs / 1000) * 2);
  // fixed + index + 30 days of changes + a month of audit entries (10 a day)
  expect(q.storedBytes).toBe(1000 + 100 * 10 + 5 * 30 * 100 + 10 * 30 * 50);
  const shared = quantities(userDay(units(), profile), profile, storage, prices, {
    ...DEFAULT_ASSUMPTIONS,
    executionsSharingAnInstance: 16,
  });
  expect(shared.gbSeconds).toBeCloseTo(q.gbSeconds / 16);
});

test('dollars per 1,000 users per month follow the price table', () => {
  const q = {
    executions: 100,
    gbSeconds: 10,
    tableTransactions: 1000,
    queueOperations: 200,
    keyVaultOperations: 0,
    graphRequests: 0,
    identityRequests: 0,
    storedBytes: 1e6,
  };
  const cost = monthlyCostPer1000(q, prices);
  // 100 × 30,000 = 3M executions at $0.50/M
  expect(cost.functionsExecutions).toBeCloseTo(1.5);
  expect(cost.functionsCompute).toBeCloseTo(10 * 30_000 * 0.00002);
  expect(cost.tableTransactions).toBeCloseTo(3); // 30M transactions at $0.001 per 10k
  expect(cost.queueOperations).toBeCloseTo(6);
  expect(cost.tableCapacity).toBeCloseTo(0.05); // 1 GB for 1,000 users
  expect(cost.total).toBeCloseTo(1.5 + 6 + 3 + 6 + 0.05);
});

test('a unit measured as a difference never goes negative', () => {
  const a = { ...emptyUnit(), roundTrips: { 'graph PATCH': 3, 'table:x GET': 1 }, durationMs: 5 };
  const b = { ...emptyUnit(), roundTrips: { 'table:x GET': 2 }, durationMs: 9 };
  expect(subtractUnit(a, b)).toEqual({ ...emptyUnit(), roundTrips: { 'graph PATCH': 3 } });
});

test('entity size follows Table Storage’s rule', () => {
  // 4 + 2 × (1 + 1) + string property "x": 8 + 2 + (4 + 2 × 2) + number "n": 8 + 2 + 8 + bool "b": 8 + 2 + 1
  expect(entityBytes({ partitionKey: 'a', rowKey: 'b', etag: 'W/"1"', x: 'yz', n: 3, b: true })).toBe(
    8 + 18 + 18 + 11,
  );
});

test('Graph paths fall into their throttling buckets', () => {
  expect(graphBucket('/v1.0/me/mailFolders/inbox/messages/delta')).toBe('outlook');
  expect(graphBucket('/v1.0/me/todo/lists/abc/tasks')).toBe('outlook');
  expect(graphBucket('/v1.0/users/x@y.test/calendarView')).toBe('outlook');
  expect(graphBucket('/v1.0/me/drive/root/delta')).toBe('files');
  expect(graphBucket('/v1.0/drives/b!1/items/2')).toBe('files');
  expect(graphBucket('/v1.0/me/chats')).toBe('teams');
  expect(graphBucket('/v1.0/teams/1/channels/2/messages/delta')).toBe('teams');
  expect(graphBucket('/v1.0/me')).toBe('directory');
  expect(graphBucket('/v1.0/subscriptions/123')).toBe('subscriptions');
  expect(graphBucket('/v1.0/$batch')).toBe('batch envelope');
  expect(graphBucket('/v1.0/me/people')).toBe('people');
});

test('timer rounds a day: notified resources once per safety net, the others every tick', () => {
  const resources = { notified: 8, others: 1 };
  expect(
    syncRoundsPerDay(resources, { intervalMinutes: 15, safetyNetMinutes: 15, reconcileMinutes: 30 }),
  ).toBe(9 * 96);
  expect(
    syncRoundsPerDay(resources, { intervalMinutes: 15, safetyNetMinutes: 60, reconcileMinutes: 120 }),
  ).toBe(8 * 24 + 96);
});
