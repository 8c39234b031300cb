/**
 * The load benchmark (bench/load.ts) scaled down so `npm test` catches regressions: 5 users for
 * 8 s with 10% of Graph requests throttled. No 5xx of our own making, no throttling passed on to
 * callers (Retry-After is short), no lost writes, and the run really was throttled.
 */
import { runLoad } from '../../bench/load';
import { startTestApp, type TestApp } from '../support/app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => await t.stop());

test('5 users × 8 s with 10% of Graph throttled: no 5xx, no lost writes, every request answered', async () => {
  const r = await runLoad(t, { users: 5, durationMs: 8000, throttleProbability: 0.1 });
  expect(r.requests).toBeGreaterThan(20);
  expect(r.byStatus.transport).toBeUndefined();
  expect(r.serverErrors).toBe(0);
  expect(r.throttledToCaller).toBe(0);
  expect(Object.keys(r.byStatus).every((s) => s === '200' || s === '201')).toBe(true);
  expect(r.creates).toBeGreaterThan(0);
  expect(r.lost).toEqual([]);
  // The sandbox did throttle (about 10% of Graph requests), and the chokepoint absorbed it.
  expect(r.graphThrottled).toBeGreaterThan(0);
  expect(r.graphThrottled / r.graphRequests).toBeLessThan(0.3);
  expect(r.p50Ms).toBeLessThanOrEqual(r.p99Ms);
  // Bounded: the run stopped by itself close to its deadline (a request in flight may finish).
  expect(r.durationMs).toBeLessThan(8000 + 10_000);
});
