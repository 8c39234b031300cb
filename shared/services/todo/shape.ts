/**
 * To Do: our output shapes (mapped field by field from todoTaskList / todoTask / checklistItem /
 * linkedResource, reference §8.6) and the date rules.
 *
 * - A due date is a calendar date. Graph keeps only the date of `dueDateTime` (the time is dropped
 *   and it returns as `T00:00:00.0000000` UTC; §8.6, microsoft-graph-docs-contrib#2136), so we send
 *   the date at midnight UTC whatever the caller's zone: converting local midnight to UTC first
 *   would move the day for zones east of UTC (Pacific/Auckland: 2027-03-01 → 2027-02-28).
 * - A reminder is an instant: an ISO time with an offset, or a local time in the caller's zone.
 */
import { untrusted } from '../../actions/output';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { Problem } from '../../http/problem';

export const TASK_STATUSES = [
  'notStarted',
  'inProgress',
  'completed',
  'waitingOnOthers',
  'deferred',
] as const;
export const TASK_IMPORTANCE = ['low', 'normal', 'high'] as const;

const str = z.string().nullable().optional();
const DateTimeTimeZone = z
  .object({ dateTime: z.string(), timeZone: z.string().nullable().optional() })
  .passthrough();
type DateTimeTimeZone = z.output<typeof DateTimeTimeZone>;

export const GraphList = z
  .object({
    id: z.string(),
    displayName: str,
    wellknownListName: str,
    isOwner: z.boolean().optional(),
    isShared: z.boolean().optional(),
  })
  .passthrough();

const GraphChecklistItem = z
  .object({
    id: z.string(),
    displayName: str,
    isChecked: z.boolean().optional(),
    checkedDateTime: str,
    createdDateTime: str,
  })
  .passthrough();
const GraphLink = z
  .object({ id: z.string(), webUrl: str, applicationName: str, displayName: str, externalId: str })
  .passthrough();

export const GraphTask = z
  .object({
    id: z.string(),
    title: str,
    status: z.string().optional(),
    importance: z.string().optional(),
    isReminderOn: z.boolean().optional(),
    body: z.object({ content: str, contentType: str }).partial().nullable().optional(),
    dueDateTime: DateTimeTimeZone.nullable().optional(),
    reminderDateTime: DateTimeTimeZone.nullable().optional(),
    completedDateTime: DateTimeTimeZone.nullable().optional(),
    categories: z.array(z.string()).nullable().optional(),
    recurrence: z.record(z.string(), z.unknown()).nullable().optional(),
    createdDateTime: str,
    lastModifiedDateTime: str,
    checklistItems: z.array(GraphChecklistItem).optional(),
    linkedResources: z.array(GraphLink).optional(),
  })
  .passthrough();

export const TaskListOut = z.object({
  id: z.string(),
  name: z.string(),
  isDefault: z.boolean().describe('The built-in "Tasks" list.'),
  wellKnownName: z.string().describe('defaultList, flaggedEmails or none.'),
  isOwner: z.boolean(),
  isShared: z.boolean(),
});
export type TaskList = z.infer<typeof TaskListOut>;

export function toList(raw: unknown): TaskList {
  const l = GraphList.parse(raw);
  const wellKnown = l.wellknownListName ?? 'none';
  return {
    id: l.id,
    name: l.displayName ?? '',
    isDefault: wellKnown === 'defaultList',
    wellKnownName: wellKnown,
    isOwner: l.isOwner ?? true,
    isShared: l.isShared ?? false,
  };
}

export const ChecklistItemOut = z.object({
  id: z.string(),
  text: untrusted(z.string(), 'task'),
  checked: z.boolean(),
  checkedAt: z.string().nullable(),
});
export type ChecklistItem = z.infer<typeof ChecklistItemOut>;

export function toChecklistItem(raw: unknown): ChecklistItem {
  const c = GraphChecklistItem.parse(raw);
  return {
    id: c.id,
    text: c.displayName ?? '',
    checked: c.isChecked ?? false,
    checkedAt: c.checkedDateTime ?? null,
  };
}

export const LinkedResourceOut = z.object({
  id: z.string(),
  webUrl: z.string().nullable(),
  applicationName: z.string().nullable(),
  displayName: untrusted(z.string().nullable(), 'task'),
  externalId: z.string().nullable(),
});
export type LinkedResource = z.infer<typeof LinkedResourceOut>;

export function toLink(raw: unknown): LinkedResource {
  const l = GraphLink.parse(raw);
  return {
    id: l.id,
    webUrl: l.webUrl ?? null,
    applicationName: l.applicationName ?? null,
    displayName: l.displayName ?? null,
    externalId: l.externalId ?? null,
  };
}

export const TaskOut = z.object({
  id: z.string(),
  listId: z.string(),
  title: untrusted(z.string(), 'task'),
  status: z.string().describe('notStarted, inProgress, completed, waitingOnOthers or deferred.'),
  completed: z.boolean(),
  importance: z.string(),
  body: untrusted(z.string().nullable(), 'task'),
  bodyType: z.enum(['text', 'html']),
  due: z.string().nullable().describe('Calendar date, YYYY-MM-DD.'),
  reminderAt: z.string().nullable().describe('UTC instant (ISO 8601, Z) of the reminder, when one is on.'),
  categories: z.array(z.string()),
  recurrence: z.record(z.string(), z.unknown()).nullable().describe('Graph patternedRecurrence.'),
  completedAt: z.string().nullable().describe('UTC instant the task was completed.'),
  createdAt: z.string().nullable(),
  lastModifiedAt: z.string().nullable(),
  checklist: z.array(ChecklistItemOut).optional(),
  links: z.array(LinkedResourceOut).optional(),
});
export type Task = z.infer<typeof TaskOut>;

/** Graph's zone-less dateTime in a zone (UTC when absent) as a luxon DateTime. */
function fromGraphDateTime(v: DateTimeTimeZone): DateTime {
  const zone = !v.timeZone || /^(utc|etc\/utc|gmt)$/i.test(v.timeZone) ? 'UTC' : v.timeZone;
  const text = v.dateTime.replace(/(\.\d{3})\d+/, '$1');
  const dt = DateTime.fromISO(text, { zone });
  return dt.isValid ? dt : DateTime.fromISO(text, { zone: 'UTC' });
}

/**
 * The calendar date of a dueDateTime. Graph answers midnight UTC for dates set through the API.
 * To Do's own apps store the user's local midnight, which reads back as another UTC time of day
 * (e.g. `2024-10-23T10:00:00` for 24 October at UTC+14,
 * https://github.com/RogerSelwyn/MS365-ToDo/issues/29); the caller's zone, when known, recovers
 * the date the user picked.
 */
export function dueDate(v: DateTimeTimeZone | null | undefined, callerZone?: string): string | null {
  if (!v) return null;
  const dt = fromGraphDateTime(v);
  const isMidnightUtc = dt.toUTC().toFormat('HH:mm:ss') === '00:00:00';
  if (!isMidnightUtc && callerZone) return dt.setZone(callerZone).toFormat('yyyy-MM-dd');
  return dt.toUTC().toFormat('yyyy-MM-dd');
}

/** The dueDateTime to send for a calendar date: that date at midnight, timeZone UTC. */
export function dueToGraph(date: string): { dateTime: string; timeZone: string } {
  return { dateTime: `${date}T00:00:00`, timeZone: 'UTC' };
}

function instantUtc(v: DateTimeTimeZone | null | undefined): string | null {
  if (!v) return null;
  return fromGraphDateTime(v).toUTC().toISO({ suppressMilliseconds: true });
}

/**
 * A reminder instant for Graph: an ISO time with an offset stands as is; a local time needs the
 * caller's zone (X-Timezone or Prefer: outlook.timezone), else the input is refused.
 */
export function reminderToGraph(
  text: string,
  callerZone: string | undefined,
): { dateTime: string; timeZone: string } {
  const hasOffset = /(Z|[+-]\d{2}:?\d{2})$/i.test(text);
  if (!hasOffset && !callerZone) {
    throw new Problem('invalid_input', 'reminderAt has no offset and the request names no time zone.', {
      errors: [
        {
          field: 'reminderAt',
          message: 'give an offset (e.g. 2027-03-01T09:00:00+01:00) or send the X-Timezone header',
        },
      ],
    });
  }
  const dt = DateTime.fromISO(text, hasOffset ? { setZone: true } : { zone: callerZone });
  if (!dt.isValid) {
    throw new Problem('invalid_input', 'reminderAt is not an ISO 8601 date and time.', {
      errors: [{ field: 'reminderAt', message: 'is not an ISO 8601 date and time' }],
    });
  }
  return { dateTime: dt.toUTC().toFormat("yyyy-MM-dd'T'HH:mm:ss"), timeZone: 'UTC' };
}

export function toTask(raw: unknown, listId: string, callerZone?: string): Task {
  const t = GraphTask.parse(raw);
  const status = t.status ?? 'notStarted';
  const out: Task = {
    id: t.id,
    listId,
    title: t.title ?? '',
    status,
    completed: status === 'completed',
    importance: t.importance ?? 'normal',
    body: t.body?.content ? t.body.content : null,
    bodyType: t.body?.contentType === 'html' ? 'html' : 'text',
    due: dueDate(t.dueDateTime, callerZone),
    reminderAt: t.isReminderOn ? instantUtc(t.reminderDateTime) : null,
    categories: t.categories ?? [],
    recurrence: t.recurrence ?? null,
    completedAt: instantUtc(t.completedDateTime),
    createdAt: t.createdDateTime ?? null,
    lastModifiedAt: t.lastModifiedDateTime ?? null,
  };
  if (t.checklistItems) out.checklist = t.checklistItems.map(toChecklistItem);
  if (t.linkedResources) out.links = t.linkedResources.map(toLink);
  return out;
}

// ---------------------------------------------------------------- inputs

export const isoDate = z.iso.date();
const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

export const recurrenceInput = z
  .object({
    type: z
      .enum(['daily', 'weekly', 'absoluteMonthly', 'relativeMonthly', 'absoluteYearly', 'relativeYearly'])
      .describe(
        'daily, weekly (on daysOfWeek), absoluteMonthly (dayOfMonth), relativeMonthly (index + daysOfWeek), absoluteYearly (month + dayOfMonth), relativeYearly.',
      ),
    interval: z
      .number()
      .int()
      .min(1)
      .max(99)
      .optional()
      .describe('Every n days/weeks/months/years (default 1).'),
    daysOfWeek: z
      .array(z.enum(DAYS))
      .min(1)
      .max(7)
      .optional()
      .describe('Weekdays (weekly, relative patterns).'),
    dayOfMonth: z.number().int().min(1).max(31).optional().describe('Day of the month (absolute patterns).'),
    month: z.number().int().min(1).max(12).optional().describe('Month (yearly patterns).'),
    index: z
      .enum(['first', 'second', 'third', 'fourth', 'last'])
      .optional()
      .describe('Which week (relative patterns).'),
    until: isoDate.optional().describe('Last date of the series, YYYY-MM-DD (default: no end).'),
    occurrences: z
      .number()
      .int()
      .min(1)
      .max(999)
      .optional()
      .describe('Number of occurrences (instead of until).'),
  })
  .strict();

/** patternedRecurrence for Graph; the series starts on the task's due date. */
export function recurrenceToGraph(
  r: z.output<typeof recurrenceInput>,
  startDate: string,
): Record<string, unknown> {
  const pattern: Record<string, unknown> = { type: r.type, interval: r.interval ?? 1 };
  if (r.daysOfWeek) pattern.daysOfWeek = r.daysOfWeek;
  if (r.dayOfMonth) pattern.dayOfMonth = r.dayOfMonth;
  if (r.month) pattern.month = r.month;
  if (r.index) pattern.index = r.index;
  const range: Record<string, unknown> = r.until
    ? { type: 'endDate', startDate, endDate: r.until }
    : r.occurrences
      ? { type: 'numbered', startDate, numberOfOccurrences: r.occurrences }
      : { type: 'noEnd', startDate };
  return { pattern, range };
}

export function needsDue(): Problem {
  return new Problem('invalid_input', 'A recurring task needs a due date.', {
    errors: [{ field: 'recurrence', message: 'needs due (the series starts on the due date)' }],
  });
}
