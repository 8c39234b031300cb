/**
 * Recurrence expansion in the sandbox (patternedRecurrence:
 * https://learn.microsoft.com/graph/api/resources/patternedrecurrence) and series occurrences
 * keeping their local time across DST (reference §8.2).
 */
import { normaliseRecurrence, occurrenceDates } from '../../sandbox/graph/calendar/recurrence';
import { instancesInWindow, newEvent } from '../../sandbox/graph/calendar/events';
import { Directory } from '../../sandbox/state';

const rec = (pattern: Record<string, unknown>, range: Record<string, unknown>) =>
  normaliseRecurrence({ pattern, range }, String(range.startDate));

test('daily every 2 days until an end date', () => {
  const r = rec(
    { type: 'daily', interval: 2 },
    { type: 'endDate', startDate: '2025-01-30', endDate: '2025-02-05' },
  );
  expect(occurrenceDates(r, '2025-01-01', '2025-12-31')).toEqual([
    '2025-01-30',
    '2025-02-01',
    '2025-02-03',
    '2025-02-05',
  ]);
});

test('weekly on two days every other week, counted from the week holding the start', () => {
  const r = rec(
    { type: 'weekly', interval: 2, daysOfWeek: ['monday', 'thursday'], firstDayOfWeek: 'monday' },
    { type: 'numbered', startDate: '2025-03-06', numberOfOccurrences: 4 },
  );
  // 6 March 2025 is a Thursday; that week counts, the next is skipped.
  expect(occurrenceDates(r, '2025-01-01', '2025-12-31')).toEqual([
    '2025-03-06',
    '2025-03-17',
    '2025-03-20',
    '2025-03-31',
  ]);
});

test('numbered ranges count from the start even when the window starts later', () => {
  const r = rec(
    { type: 'daily', interval: 1 },
    { type: 'numbered', startDate: '2025-05-01', numberOfOccurrences: 5 },
  );
  expect(occurrenceDates(r, '2025-05-04', '2025-05-31')).toEqual(['2025-05-04', '2025-05-05']);
});

test('absolute monthly skips months without the day; relative monthly takes the last Friday', () => {
  const abs = rec(
    { type: 'absoluteMonthly', interval: 1, dayOfMonth: 31 },
    { type: 'endDate', startDate: '2025-01-31', endDate: '2025-05-31' },
  );
  expect(occurrenceDates(abs, '2025-01-01', '2025-12-31')).toEqual([
    '2025-01-31',
    '2025-03-31',
    '2025-05-31',
  ]);
  const rel = rec(
    { type: 'relativeMonthly', interval: 1, daysOfWeek: ['friday'], index: 'last' },
    { type: 'numbered', startDate: '2025-01-01', numberOfOccurrences: 3 },
  );
  expect(occurrenceDates(rel, '2025-01-01', '2025-12-31')).toEqual([
    '2025-01-31',
    '2025-02-28',
    '2025-03-28',
  ]);
});

test('yearly patterns, and a pattern that never matches ends instead of looping', () => {
  const yearly = rec(
    { type: 'relativeYearly', interval: 1, month: 11, daysOfWeek: ['thursday'], index: 'fourth' },
    { type: 'noEnd', startDate: '2025-01-01' },
  );
  expect(occurrenceDates(yearly, '2025-01-01', '2027-12-31')).toEqual([
    '2025-11-27',
    '2026-11-26',
    '2027-11-25',
  ]);
  const never = rec(
    { type: 'absoluteYearly', interval: 1, month: 2, dayOfMonth: 30 },
    { type: 'noEnd', startDate: '2025-01-01' },
  );
  expect(occurrenceDates(never, '2025-01-01', '2125-12-31')).toEqual([]);
});

test('invalid patterns are 400s', () => {
  expect(() => rec({ type: 'weekly', interval: 1 }, { type: 'noEnd', startDate: '2025-01-01' })).toThrow(
    /daysOfWeek/,
  );
  expect(() => rec({ type: 'hourly' }, { type: 'noEnd', startDate: '2025-01-01' })).toThrow(/pattern.type/);
  expect(() =>
    rec({ type: 'daily' }, { type: 'endDate', startDate: '2025-01-02', endDate: '2025-01-01' }),
  ).toThrow(/endDate/);
});

test('a 09:00 New York series keeps 09:00 local over the US DST change (UTC hour moves)', () => {
  const directory = new Directory();
  const user = directory.addUser({
    userPrincipalName: 'x@contoso.test',
    displayName: 'X Y',
    timeZone: 'America/New_York',
  });
  const master = {
    ...newEvent(
      {
        subject: 's',
        start: { dateTime: '2025-03-05T09:00:00', timeZone: 'Eastern Standard Time' },
        end: { dateTime: '2025-03-05T09:15:00', timeZone: 'Eastern Standard Time' },
        recurrence: {
          pattern: { type: 'weekly', interval: 1, daysOfWeek: ['wednesday'] },
          range: { type: 'numbered', startDate: '2025-03-05', numberOfOccurrences: 2 },
        },
      },
      user,
      'cal',
      directory,
    ),
    id: 'm',
  };
  const inst = instancesInWindow([master], Date.UTC(2025, 2, 1), Date.UTC(2025, 3, 1));
  // EST (UTC-5) on 5 March, EDT (UTC-4) from 9 March 2025.
  expect(inst.map((i) => new Date(i.startMs).toISOString())).toEqual([
    '2025-03-05T14:00:00.000Z',
    '2025-03-12T13:00:00.000Z',
  ]);
});
