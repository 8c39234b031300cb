/**
 * Recurrence expansion for the sandbox calendar: which local dates a `patternedRecurrence`
 * produces (https://learn.microsoft.com/graph/api/resources/patternedrecurrence,
 * recurrencepattern, recurrencerange). Dates are calendar dates in the series' zone; the caller
 * puts the series' local start time on each date in that zone, so a 09:00 Berlin series stays at
 * 09:00 Berlin across DST changes (reference §8.2).
 */
import { DateTime } from 'luxon';
import { GraphHttpError } from '../errors';

export interface RecurrencePattern {
  type: 'daily' | 'weekly' | 'absoluteMonthly' | 'relativeMonthly' | 'absoluteYearly' | 'relativeYearly';
  interval: number;
  daysOfWeek?: string[];
  dayOfMonth?: number;
  month?: number;
  index?: 'first' | 'second' | 'third' | 'fourth' | 'last';
  firstDayOfWeek?: string;
}

export interface RecurrenceRange {
  type: 'endDate' | 'noEnd' | 'numbered';
  startDate: string;
  endDate?: string;
  numberOfOccurrences?: number;
  recurrenceTimeZone?: string;
}

export interface PatternedRecurrence {
  pattern: RecurrencePattern;
  range: RecurrenceRange;
}

export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const INDEXES = ['first', 'second', 'third', 'fourth', 'last'];
const PATTERNS = [
  'daily',
  'weekly',
  'absoluteMonthly',
  'relativeMonthly',
  'absoluteYearly',
  'relativeYearly',
];
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
/** Guards against runaway series (a daily noEnd series over a century-long window). */
const MAX_STEPS = 200_000;

function invalid(message: string): GraphHttpError {
  return new GraphHttpError(400, 'ErrorInvalidRequest', message);
}

/** Luxon weekday (1 = Monday … 7 = Sunday) of a Graph day name. */
export function weekdayNumber(day: string): number {
  const i = WEEKDAYS.indexOf(day.toLowerCase());
  if (i < 0) throw invalid(`'${day}' is not a valid dayOfWeek.`);
  return i + 1;
}

/** Validates and normalises a recurrence from a request body (400 on what Graph rejects). */
export function normaliseRecurrence(value: unknown, startDate: string): PatternedRecurrence {
  const v = (value ?? {}) as { pattern?: Partial<RecurrencePattern>; range?: Partial<RecurrenceRange> };
  const p = v.pattern ?? {};
  const r = v.range ?? {};
  if (!p.type || !PATTERNS.includes(p.type))
    throw invalid('recurrence.pattern.type is required and must be a known pattern.');
  const interval = p.interval ?? 1;
  if (!Number.isInteger(interval) || interval < 1 || interval > 99)
    throw invalid('recurrence.pattern.interval must be between 1 and 99.');
  const pattern: RecurrencePattern = {
    type: p.type,
    interval,
    month: 0,
    dayOfMonth: 0,
    firstDayOfWeek: 'sunday',
    index: 'first',
    daysOfWeek: [],
  };
  const days = (p.daysOfWeek ?? []).map((d) => String(d).toLowerCase());
  days.forEach(weekdayNumber);
  if (p.firstDayOfWeek) {
    weekdayNumber(p.firstDayOfWeek);
    pattern.firstDayOfWeek = p.firstDayOfWeek.toLowerCase();
  }
  if (p.type === 'weekly' || p.type.startsWith('relative')) {
    if (days.length === 0)
      throw invalid(`recurrence.pattern.daysOfWeek is required for a ${p.type} pattern.`);
    pattern.daysOfWeek = days;
  }
  if (p.type.startsWith('relative')) {
    const index = p.index ?? 'first';
    if (!INDEXES.includes(index))
      throw invalid('recurrence.pattern.index must be first, second, third, fourth or last.');
    pattern.index = index;
  }
  if (p.type.startsWith('absolute')) {
    const dom = p.dayOfMonth;
    if (!Number.isInteger(dom) || (dom as number) < 1 || (dom as number) > 31)
      throw invalid(`recurrence.pattern.dayOfMonth is required for a ${p.type} pattern.`);
    pattern.dayOfMonth = dom;
  }
  if (p.type.endsWith('Yearly')) {
    const month = p.month;
    if (!Number.isInteger(month) || (month as number) < 1 || (month as number) > 12)
      throw invalid(`recurrence.pattern.month is required for a ${p.type} pattern.`);
    pattern.month = month;
  }
  const type = r.type ?? 'noEnd';
  if (!['endDate', 'noEnd', 'numbered'].includes(type))
    throw invalid('recurrence.range.type must be endDate, noEnd or numbered.');
  const rangeStart = r.startDate ?? startDate;
  if (!DATE_RE.test(rangeStart)) throw invalid('recurrence.range.startDate must be a date (yyyy-MM-dd).');
  const range: RecurrenceRange = {
    type,
    startDate: rangeStart,
    endDate: '0001-01-01',
    numberOfOccurrences: 0,
  };
  if (r.recurrenceTimeZone) range.recurrenceTimeZone = r.recurrenceTimeZone;
  if (type === 'endDate') {
    if (!r.endDate || !DATE_RE.test(r.endDate) || r.endDate < rangeStart)
      throw invalid(
        'recurrence.range.endDate is required for an endDate range and must not precede startDate.',
      );
    range.endDate = r.endDate;
  }
  if (type === 'numbered') {
    const n = r.numberOfOccurrences;
    if (!Number.isInteger(n) || (n as number) < 1)
      throw invalid('recurrence.range.numberOfOccurrences must be at least 1.');
    range.numberOfOccurrences = n;
  }
  return { pattern, range };
}

/** Candidate dates of a pattern in order, from the range start up to `last` (yyyy-MM-dd). */
function* candidates(rec: PatternedRecurrence, last: string): Generator<DateTime> {
  const { pattern } = rec;
  const start = DateTime.fromISO(rec.range.startDate, { zone: 'UTC' });
  const stop = DateTime.fromISO(last, { zone: 'UTC' });
  const days = new Set((pattern.daysOfWeek ?? []).map(weekdayNumber));
  if (pattern.type === 'daily') {
    for (let d = start; d <= stop; d = d.plus({ days: pattern.interval })) yield d;
    return;
  }
  if (pattern.type === 'weekly') {
    // Weeks count from the week (by firstDayOfWeek) that holds the start date.
    const first = weekdayNumber(pattern.firstDayOfWeek ?? 'sunday');
    const back = (start.weekday - first + 7) % 7;
    for (
      let week = start.minus({ days: back });
      week <= stop;
      week = week.plus({ weeks: pattern.interval })
    ) {
      for (let i = 0; i < 7; i++) {
        const d = week.plus({ days: i });
        if (d >= start && d <= stop && days.has(d.weekday)) yield d;
      }
    }
    return;
  }
  const yearly = pattern.type.endsWith('Yearly');
  let month = yearly
    ? DateTime.fromObject({ year: start.year, month: pattern.month ?? 1, day: 1 }, { zone: 'UTC' })
    : start.startOf('month');
  for (
    ;
    month <= stop;
    month = month.plus(yearly ? { years: pattern.interval } : { months: pattern.interval })
  ) {
    const d = pattern.type.startsWith('absolute')
      ? absoluteDay(month, pattern.dayOfMonth ?? 1)
      : relativeDay(month, days, pattern.index ?? 'first');
    if (d && d >= start && d <= stop) yield d;
  }
}

/** The dayOfMonth in a month; months without that day have no occurrence. */
function absoluteDay(month: DateTime, dayOfMonth: number): DateTime | undefined {
  return dayOfMonth <= (month.daysInMonth ?? 28) ? month.set({ day: dayOfMonth }) : undefined;
}

/** The index-th day of the month whose weekday is in `days` (`last` = the final one). */
function relativeDay(month: DateTime, days: Set<number>, index: string): DateTime | undefined {
  const matches: DateTime[] = [];
  for (let d = month; d.month === month.month; d = d.plus({ days: 1 }))
    if (days.has(d.weekday)) matches.push(d);
  return index === 'last' ? matches[matches.length - 1] : matches[INDEXES.indexOf(index)];
}

/**
 * The occurrence dates (yyyy-MM-dd, in the series' zone) between `from` and `to` inclusive.
 * Numbered ranges count from the range start, whatever the window.
 */
export function occurrenceDates(rec: PatternedRecurrence, from: string, to: string): string[] {
  const out: string[] = [];
  const end = rec.range.type === 'endDate' ? (rec.range.endDate ?? to) : to;
  const last = end < to ? end : to;
  let count = 0;
  let steps = 0;
  for (const d of candidates(rec, last)) {
    if (++steps > MAX_STEPS) break;
    const date = d.toISODate() as string;
    count += 1;
    if (rec.range.type === 'numbered' && count > (rec.range.numberOfOccurrences ?? 0)) break;
    if (date >= from) out.push(date);
  }
  return out;
}
