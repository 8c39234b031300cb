import { InvocationContext } from '@azure/functions';
import { runningInvocations, traced } from '../../shared/correlation';
import {
  countRoundTrip,
  onInvocationRoundTrips,
  roundTripTotals,
  storageTarget,
  type RoundTrips,
} from '../../shared/meter';

test('table requests are named by table and method (Azurite and Azure URLs)', () => {
  const azurite = 'http://127.0.0.1:10002/devstoreaccount1';
  expect(storageTarget(`${azurite}/connections(PartitionKey='u1',RowKey='default')`, 'GET')).toBe(
    'table:connections GET',
  );
  expect(storageTarget('https://acct.table.core.windows.net/audit', 'POST')).toBe('table:audit POST');
  expect(storageTarget(`${azurite}/$batch`, 'POST')).toBe('table:$batch POST');
  expect(storageTarget('not a url', 'GET')).toBe('table:? GET');
});

test('round trips count for the invocation that made them, and in the process totals', async () => {
  const ended: Array<{ functionName: string; roundTrips: RoundTrips }> = [];
  const stop = onInvocationRoundTrips((functionName, _id, roundTrips) =>
    ended.push({ functionName, roundTrips }),
  );
  const before = roundTripTotals()['graph GET'] ?? 0;
  const context = new InvocationContext({ functionName: 'mailActions', invocationId: 'inv-1' });
  await traced(context, undefined, async () => {
    countRoundTrip('graph GET');
    await Promise.resolve();
    countRoundTrip('graph GET');
    countRoundTrip('table:audit POST');
  });
  countRoundTrip('graph GET'); // outside any invocation: totals only
  stop();
  expect(ended).toEqual([
    { functionName: 'mailActions', roundTrips: { 'graph GET': 2, 'table:audit POST': 1 } },
  ]);
  expect(roundTripTotals()['graph GET']).toBe(before + 3);
});

test('an invocation reports how long it ran and counts as running until it ends', async () => {
  const durations: number[] = [];
  const stop = onInvocationRoundTrips((_name, _id, _rt, durationMs) => durations.push(durationMs));
  const context = new InvocationContext({ functionName: 'syncWorker', invocationId: 'inv-2' });
  let during = -1;
  await traced(context, undefined, async () => {
    during = runningInvocations();
    await new Promise((r) => setTimeout(r, 20));
  });
  stop();
  expect(during).toBe(1);
  expect(runningInvocations()).toBe(0);
  // Timers may fire a little early on some platforms; 15 ms of a 20 ms wait is a safe floor.
  expect(durations).toHaveLength(1);
  expect(durations[0]).toBeGreaterThanOrEqual(15);
});
