/**
 * The calendar actions' time helpers: inputs carry their zone, outputs are in the caller's zone
 * with the UTC instant, all-day events are dates, nothing uses the server's local zone
 * (reference §8.2; peers.md item 11).
 */
import { mergeBusy } from '../../shared/services/calendar/availability';
import {
  callerZone,
  eventTimeOut,
  graphZoneName,
  ianaZone,
  timeOut,
  toGraphDateTime,
  toUtcIso,
} from '../../shared/services/calendar/time';

test('zone names: IANA and Windows both resolve; Graph gets the Windows name', () => {
  expect(ianaZone('W. Europe Standard Time')).toBe('Europe/Berlin');
  expect(ianaZone('europe/berlin')).toBe('Europe/Berlin');
  expect(ianaZone('Mars/Base')).toBeUndefined();
  expect(graphZoneName('Europe/Berlin')).toBe('W. Europe Standard Time');
  expect(graphZoneName('UTC')).toBe('UTC');
});

test('the caller zone: input, then request, then UTC (never server-local)', () => {
  expect(callerZone('Asia/Tokyo', 'Europe/Berlin')).toBe('Asia/Tokyo');
  expect(callerZone(undefined, 'Europe/Berlin')).toBe('Europe/Berlin');
  expect(callerZone(undefined, undefined)).toBe('UTC');
});

test('inputs become Graph dateTimeTimeZone values without losing the instant', () => {
  expect(toGraphDateTime('2025-03-31T09:00:00+02:00', 'start')).toEqual({
    dateTime: '2025-03-31T07:00:00.000',
    timeZone: 'UTC',
  });
  expect(toGraphDateTime({ dateTime: '2025-03-31T09:00:00', timeZone: 'Europe/Berlin' }, 'start')).toEqual({
    dateTime: '2025-03-31T09:00:00.000',
    timeZone: 'W. Europe Standard Time',
  });
  expect(toGraphDateTime({ date: '2025-04-10' }, 'start', 'America/New_York')).toEqual({
    dateTime: '2025-04-10T00:00:00',
    timeZone: 'Eastern Standard Time',
  });
  // A window given as dates starts at midnight in the caller's zone.
  expect(toUtcIso({ date: '2025-07-01' }, 'start', 'Europe/Berlin')).toBe('2025-06-30T22:00:00Z');
});

test('Graph times are read in the zone Graph names and shown in the caller zone with utc', () => {
  expect(timeOut({ dateTime: '2025-03-31T07:00:00.0000000', timeZone: 'UTC' }, 'Europe/Berlin')).toEqual({
    dateTime: '2025-03-31T09:00:00',
    timeZone: 'Europe/Berlin',
    utc: '2025-03-31T07:00:00Z',
  });
  // Graph answered in a Windows zone: still the same instant.
  expect(
    timeOut({ dateTime: '2025-03-31T00:00:00.0000000', timeZone: 'Pacific Standard Time' }, 'UTC')?.utc,
  ).toBe('2025-03-31T07:00:00Z');
  expect(
    eventTimeOut({ dateTime: '2025-04-10T00:00:00.0000000', timeZone: 'Pacific/Auckland' }, true, 'UTC'),
  ).toEqual({
    date: '2025-04-10',
  });
});

test('busy blocks merge overlaps, drop free time and keep the strongest status', () => {
  const h = (n: number) => n * 3600_000;
  expect(
    mergeBusy([
      { startMs: h(10), endMs: h(11), status: 'tentative' },
      { startMs: h(9), endMs: h(10), status: 'busy' },
      { startMs: h(10.5), endMs: h(12), status: 'oof' },
      { startMs: h(13), endMs: h(14), status: 'free' },
      { startMs: h(15), endMs: h(16), status: 'workingElsewhere' },
    ]),
  ).toEqual([
    { startMs: h(9), endMs: h(12), status: 'oof' },
    { startMs: h(15), endMs: h(16), status: 'workingElsewhere' },
  ]);
});
