/**
 * Time handling for the calendar actions. Peer integrations break most often here (events shifted
 * by the UTC offset, DST, all-day events; peers.md item 11), so every time in and out carries its
 * zone and nothing is ever read in the server's local zone:
 * - input: an ISO instant with an offset (`2025-03-31T09:00:00+02:00`), a local time plus an
 *   IANA or Windows zone (`{dateTime, timeZone}`), or a date for all-day events (`{date}`);
 * - to Graph: `dateTimeTimeZone` with a Windows zone name where one exists (the names Graph
 *   documents; some IANA names were refused in practice, microsoft-graph-docs#4242);
 * - output: `{dateTime, timeZone, utc}` in the caller's IANA zone, all-day events as `{date}`.
 * Reference §8.2: https://learn.microsoft.com/graph/api/resources/datetimetimezone
 */
import { DateTime, IANAZone } from 'luxon';
import { findIana, findWindows } from 'windows-iana';
import { z } from 'zod';
import { Problem } from '../../http/problem';

/** The IANA zone for an IANA or Windows name, or undefined when it is neither. */
export function ianaZone(name: string): string | undefined {
  const trimmed = name.trim();
  if (/^(utc|etc\/utc|gmt|z)$/i.test(trimmed)) return 'UTC';
  // Intl gives the canonical spelling (europe/berlin → Europe/Berlin).
  if (IANAZone.isValidZone(trimmed))
    return new Intl.DateTimeFormat('en-US', { timeZone: trimmed }).resolvedOptions().timeZone;
  const fromWindows = findIana(trimmed)[0];
  return fromWindows && IANAZone.isValidZone(fromWindows) ? fromWindows : undefined;
}

/** The name we send Graph for a zone: the Windows name when there is one, else the IANA name. */
export function graphZoneName(iana: string): string {
  if (iana === 'UTC') return 'UTC';
  return findWindows(iana)[0] ?? iana;
}

const INSTANT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$/i;
const LOCAL_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

const zoneName = z
  .string()
  .min(1)
  .max(64)
  .refine((v) => ianaZone(v) !== undefined, 'is not a known IANA or Windows time zone');

/** An IANA (or Windows) zone name field. */
export const TimeZoneField = zoneName;

/** A point in time as the caller may give it. */
export const DateTimeInput = z.union([
  z
    .string()
    .regex(INSTANT_RE, 'must be an ISO 8601 instant with an offset or Z, e.g. 2025-03-31T09:00:00+02:00')
    .describe('An ISO 8601 instant with an offset or Z, e.g. "2025-03-31T09:00:00+02:00".'),
  z
    .object({
      dateTime: z
        .string()
        .regex(LOCAL_RE, 'must be a local date-time without offset, e.g. 2025-03-31T09:00:00')
        .describe('Local wall-clock time without offset, e.g. "2025-03-31T09:00:00".'),
      timeZone: zoneName.describe(
        'The zone of dateTime: IANA (Europe/Berlin) or Windows (W. Europe Standard Time).',
      ),
    })
    .strict()
    .describe('A local time in a named zone; DST is applied by the zone rules.'),
  z
    .object({
      date: z.string().regex(DATE_RE, 'must be a date yyyy-MM-dd').describe('A calendar date, yyyy-MM-dd.'),
    })
    .strict()
    .describe('A date, for all-day events (the end date is exclusive).'),
]);
export type DateTimeInput = z.infer<typeof DateTimeInput>;

export interface GraphDateTime {
  dateTime: string;
  timeZone: string;
}

/** A time as we return it: local in the caller's zone, plus the UTC instant. */
export interface TimeOut {
  dateTime: string;
  timeZone: string;
  utc: string;
}

export type EventTimeOut = TimeOut | { date: string };

export function isDateInput(v: DateTimeInput): v is { date: string } {
  return typeof v === 'object' && 'date' in v;
}

function invalidTime(field: string, message: string): Problem {
  return new Problem('invalid_input', `${field} ${message}`, { errors: [{ field, message }] });
}

/** A date-time input as a luxon DateTime in its own zone (instants keep their offset). */
export function parseInput(v: DateTimeInput, field: string): DateTime {
  let dt: DateTime;
  if (typeof v === 'string') dt = DateTime.fromISO(v, { setZone: true });
  else if ('date' in v) dt = DateTime.fromISO(v.date, { zone: 'UTC' });
  else dt = DateTime.fromISO(v.dateTime, { zone: ianaZone(v.timeZone) ?? 'UTC' });
  if (!dt.isValid) throw invalidTime(field, 'is not a valid date-time');
  return dt;
}

/** The Graph `dateTimeTimeZone` for an input (all-day dates become midnight in `allDayZone`). */
export function toGraphDateTime(v: DateTimeInput, field: string, allDayZone = 'UTC'): GraphDateTime {
  const dt = parseInput(v, field);
  if (typeof v === 'string') {
    // An instant: UTC is exact and needs no zone table on Graph's side.
    return { dateTime: dt.toUTC().toFormat("yyyy-MM-dd'T'HH:mm:ss.SSS"), timeZone: 'UTC' };
  }
  if ('date' in v) return { dateTime: `${v.date}T00:00:00`, timeZone: graphZoneName(allDayZone) };
  const zone = ianaZone(v.timeZone) ?? 'UTC';
  return { dateTime: dt.toFormat("yyyy-MM-dd'T'HH:mm:ss.SSS"), timeZone: graphZoneName(zone) };
}

/** An instant input as UTC ISO text (for calendarView windows, which honour offsets; §8.2). */
export function toUtcIso(v: DateTimeInput, field: string, zoneForDates = 'UTC'): string {
  const dt =
    typeof v === 'object' && 'date' in v
      ? DateTime.fromISO(v.date, { zone: zoneForDates })
      : parseInput(v, field);
  return dt.toUTC().toISO({ suppressMilliseconds: true }) as string;
}

/** Epoch ms of an input (dates at midnight in `zoneForDates`). */
export function toMillis(v: DateTimeInput, field: string, zoneForDates = 'UTC'): number {
  return DateTime.fromISO(toUtcIso(v, field, zoneForDates)).toMillis();
}

/**
 * A Graph `dateTimeTimeZone` read back as an instant. Graph writes the zone it used (the Prefer
 * zone, default UTC); we read that name rather than assuming, so a Graph that ignored the header
 * still gives the right instant.
 */
export function graphInstant(value: GraphDateTime): DateTime | undefined {
  const zone = ianaZone(value.timeZone) ?? 'UTC';
  const dt = DateTime.fromISO(value.dateTime.replace(/(\.\d{3})\d+$/, '$1'), { zone });
  return dt.isValid ? dt : undefined;
}

/** A Graph time as our output in the caller's zone. */
export function timeOut(value: GraphDateTime, zone: string): TimeOut | undefined {
  const dt = graphInstant(value);
  if (!dt) return undefined;
  return {
    dateTime: dt.setZone(zone).toFormat("yyyy-MM-dd'T'HH:mm:ss"),
    timeZone: zone,
    utc: dt.toUTC().toISO({ suppressMilliseconds: true }) as string,
  };
}

/** An event's start/end: all-day events are dates (floating, the same in every zone). */
export function eventTimeOut(
  value: GraphDateTime,
  isAllDay: boolean,
  zone: string,
): EventTimeOut | undefined {
  if (isAllDay) return { date: value.dateTime.slice(0, 10) };
  return timeOut(value, zone);
}

/** The caller's zone: the input's `timeZone`, else the request's zone, else UTC (never server-local). */
export function callerZone(inputZone: string | undefined, ctxZone: string | undefined): string {
  return (inputZone && ianaZone(inputZone)) || (ctxZone && ianaZone(ctxZone)) || 'UTC';
}

/** Output schema of a time (documentation). */
export const TimeOutSchema = z.union([
  z.object({
    dateTime: z.string().describe('Local time in timeZone, no offset.'),
    timeZone: z.string().describe('The IANA zone of dateTime (the zone the caller asked for, default UTC).'),
    utc: z.string().describe('The same instant in UTC (ISO 8601 with Z).'),
  }),
  z.object({ date: z.string().describe('All-day: the calendar date (end dates are exclusive).') }),
]);
