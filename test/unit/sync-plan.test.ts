/**
 * The timer's plan (shared/sync/plan.ts planTick, docs/scale.md): notified resources once per
 * safety-net period in the user's turn, the others every tick, each user's jobs spread over the
 * interval by a hash of the user id.
 */
import { isNotified, planTick, type TickSettings } from '../../shared/sync/plan';
import type { ResourceKey } from '../../shared/sync/jobs';

const MIN = 60_000;
const hourly: TickSettings = {
  intervalMinutes: 15,
  safetyNetMinutes: 60,
  spreadMinutes: 15,
  chatSubscriptions: false,
};
const resources: ResourceKey[] = [
  'mail:inbox',
  'mail:archive',
  'calendar',
  'files',
  'contacts',
  'todo',
  'todo:AAMkList1',
  'planner:tasks',
];
const notified = ['mail:inbox', 'calendar', 'files', 'contacts', 'todo:AAMkList1'];
const always = ['mail:archive', 'todo', 'planner:tasks'];
const tickAt = (k: number) => k * 15 * MIN;

test('what Graph notifies about is a safety-net round; the rest has no other way in', () => {
  expect(notified.every((r) => isNotified(r as ResourceKey, false))).toBe(true);
  expect(always.some((r) => isNotified(r as ResourceKey, false))).toBe(false);
  expect(isNotified('teams:chats', false)).toBe(false);
  expect(isNotified('teams:chats', true)).toBe(true);
});

test('over one safety-net period each notified resource gets exactly one round, the others one every tick', () => {
  for (const user of ['user-a', 'user-b', 'user-c', 'user-d', 'user-e']) {
    const rounds: Record<string, number> = {};
    for (let k = 100; k < 104; k++)
      for (const { resource } of planTick(user, resources, tickAt(k), hourly))
        rounds[resource] = (rounds[resource] ?? 0) + 1;
    for (const r of notified) expect({ user, r, n: rounds[r] }).toEqual({ user, r, n: 1 });
    for (const r of always) expect({ user, r, n: rounds[r] }).toEqual({ user, r, n: 4 });
  }
});

test('a timer that fires a little early or late plans the same tick', () => {
  const on = planTick('user-a', resources, tickAt(200), hourly);
  expect(planTick('user-a', resources, tickAt(200) - 3000, hourly)).toEqual(on);
  expect(planTick('user-a', resources, tickAt(200) + 90_000, hourly)).toEqual(on);
});

test('users are spread evenly over the turns and over the interval', () => {
  const users = Array.from({ length: 4000 }, (_, i) => `user-${i}`);
  const perTick = [0, 0, 0, 0];
  const perQuarter = [0, 0, 0, 0];
  for (const user of users) {
    for (let k = 0; k < 4; k++)
      if (planTick(user, ['calendar'], tickAt(k), hourly).length > 0) perTick[k]! += 1;
    const { delaySeconds } = planTick(user, ['todo'], tickAt(0), hourly)[0]!;
    expect(delaySeconds).toBeGreaterThanOrEqual(0);
    expect(delaySeconds).toBeLessThan(15 * 60);
    perQuarter[Math.floor(delaySeconds / (15 * 15))]! += 1;
  }
  // Every user has one turn; each tick holds about a quarter of them, each part of the interval too.
  expect(perTick.reduce((a, b) => a + b, 0)).toBe(4000);
  for (const n of [...perTick, ...perQuarter]) expect(Math.abs(n - 1000)).toBeLessThan(150);
});

test('a user keeps their turn and delay (the same hash every tick)', () => {
  const a = planTick('user-x', ['todo'], tickAt(7), hourly);
  expect(planTick('user-x', ['todo'], tickAt(8), hourly)).toEqual(a);
});

test('safety net equal to the interval and no spread: every resource every tick, at the tick', () => {
  const everyTick = { ...hourly, safetyNetMinutes: 15, spreadMinutes: 0 };
  for (let k = 0; k < 4; k++)
    expect(planTick('user-a', resources, tickAt(k), everyTick)).toEqual(
      resources.map((resource) => ({ resource, delaySeconds: 0 })),
    );
});
