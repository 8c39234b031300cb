/**
 * The calendar actions' input pieces and output shapes: Graph's event parsed with zod (never
 * `as`), mapped to a stable shape of our own; our event input mapped to Graph's body
 * (https://learn.microsoft.com/graph/api/resources/event, reference §8.2).
 */
import { untrusted } from '../../actions/output';
import { z } from 'zod';
import { Problem } from '../../http/problem';
import {
  DateTimeInput,
  eventTimeOut,
  graphZoneName,
  ianaZone,
  isDateInput,
  parseInput,
  toGraphDateTime,
} from './time';

// ---------------------------------------------------------------- Graph shapes (parsed)

const GraphTime = z.object({ dateTime: z.string(), timeZone: z.string() });
const Email = z
  .object({ name: z.string().nullable().optional(), address: z.string().nullable().optional() })
  .partial();

export const GraphEvent = z
  .object({
    id: z.string(),
    subject: z.string().nullable().optional(),
    bodyPreview: z.string().nullable().optional(),
    body: z
      .object({ contentType: z.string().optional(), content: z.string().optional() })
      .nullable()
      .optional(),
    start: GraphTime.nullable().optional(),
    end: GraphTime.nullable().optional(),
    isAllDay: z.boolean().nullable().optional(),
    originalStartTimeZone: z.string().nullable().optional(),
    location: z.object({ displayName: z.string().nullable().optional() }).partial().nullable().optional(),
    attendees: z
      .array(
        z
          .object({
            type: z.string().nullable().optional(),
            status: z.object({ response: z.string().nullable().optional() }).partial().nullable().optional(),
            emailAddress: Email.nullable().optional(),
          })
          .partial(),
      )
      .nullable()
      .optional(),
    organizer: z.object({ emailAddress: Email.nullable().optional() }).partial().nullable().optional(),
    isOrganizer: z.boolean().nullable().optional(),
    hasAttachments: z.boolean().nullable().optional(),
    responseStatus: z.object({ response: z.string().nullable().optional() }).partial().nullable().optional(),
    type: z.string().nullable().optional(),
    seriesMasterId: z.string().nullable().optional(),
    recurrence: z.unknown().optional(),
    isOnlineMeeting: z.boolean().nullable().optional(),
    onlineMeeting: z.object({ joinUrl: z.string().nullable().optional() }).partial().nullable().optional(),
    showAs: z.string().nullable().optional(),
    sensitivity: z.string().nullable().optional(),
    importance: z.string().nullable().optional(),
    isCancelled: z.boolean().nullable().optional(),
    isReminderOn: z.boolean().nullable().optional(),
    reminderMinutesBeforeStart: z.number().nullable().optional(),
    categories: z.array(z.string()).nullable().optional(),
    webLink: z.string().nullable().optional(),
    createdDateTime: z.string().nullable().optional(),
    lastModifiedDateTime: z.string().nullable().optional(),
    changeKey: z.string().nullable().optional(),
  })
  .passthrough();
export type GraphEvent = z.infer<typeof GraphEvent>;

export const GraphCalendar = z
  .object({
    id: z.string(),
    name: z.string().nullable().optional(),
    color: z.string().nullable().optional(),
    isDefaultCalendar: z.boolean().nullable().optional(),
    canEdit: z.boolean().nullable().optional(),
    owner: Email.nullable().optional(),
  })
  .passthrough();

// ---------------------------------------------------------------- our output

/** A time as we return it: local in the caller's zone, plus the UTC instant. */
export const TimeOutSchema = z.object({
  dateTime: z.string().describe('Local time in timeZone, e.g. 2026-03-02T09:00:00.'),
  timeZone: z.string().describe('The IANA zone of dateTime (the caller’s zone).'),
  utc: z.string().describe('The same instant in UTC (ISO 8601, Z).'),
});

/** An event's start or end: a time, or for all-day events a date (the same in every zone). */
export const EventTimeOutSchema = z.union([
  TimeOutSchema,
  z.object({ date: z.string().describe('YYYY-MM-DD.') }),
]);

export const EventOutSchema = z.object({
  id: z.string(),
  type: z.string().describe('singleInstance, occurrence, exception or seriesMaster.'),
  seriesMasterId: z.string().nullable(),
  subject: untrusted(z.string(), 'event'),
  bodyPreview: untrusted(z.string(), 'event'),
  body: z.object({ contentType: z.string(), content: untrusted(z.string(), 'event') }).nullable(),
  start: EventTimeOutSchema.nullable(),
  end: EventTimeOutSchema.nullable(),
  isAllDay: z.boolean(),
  originalTimeZone: z.string().nullable().describe('The zone the event was created in (IANA when known).'),
  location: untrusted(z.string().nullable(), 'event'),
  attendees: z.array(
    z.object({
      email: z.string(),
      name: untrusted(z.string().nullable(), 'event'),
      type: z.string().describe('required, optional or resource.'),
      response: z
        .string()
        .describe('none, accepted, tentativelyAccepted, declined, notResponded, organizer.'),
    }),
  ),
  organizer: z.object({ email: z.string(), name: untrusted(z.string().nullable(), 'event') }).nullable(),
  isOrganizer: z.boolean(),
  hasAttachments: z.boolean().describe('Files are attached (calendar.listEventAttachments).'),
  myResponse: z.string(),
  recurrence: z.unknown().describe('Graph patternedRecurrence of a series master, else null.'),
  onlineMeetingUrl: z.string().nullable(),
  showAs: z.string(),
  sensitivity: z.string(),
  importance: z.string(),
  isCancelled: z.boolean(),
  reminderMinutesBeforeStart: z.number().nullable(),
  categories: z.array(z.string()),
  webLink: z.string().nullable(),
  createdAt: z.string().nullable(),
  lastModifiedAt: z.string().nullable(),
  changeKey: z.string().nullable(),
});
export type EventOut = z.infer<typeof EventOutSchema>;

/** Graph's event → our shape, times in `zone` (the caller's IANA zone). */
export function mapEvent(raw: unknown, zone: string): EventOut {
  const e = GraphEvent.parse(raw);
  const allDay = e.isAllDay === true;
  const original = e.originalStartTimeZone ?? null;
  return {
    id: e.id,
    type: e.type ?? 'singleInstance',
    seriesMasterId: e.seriesMasterId ?? null,
    subject: e.subject ?? '',
    bodyPreview: e.bodyPreview ?? '',
    body: e.body ? { contentType: e.body.contentType ?? 'html', content: e.body.content ?? '' } : null,
    start: e.start ? (eventTimeOut(e.start, allDay, zone) ?? null) : null,
    end: e.end ? (eventTimeOut(e.end, allDay, zone) ?? null) : null,
    isAllDay: allDay,
    originalTimeZone: original ? (ianaZone(original) ?? original) : null,
    location: e.location?.displayName || null,
    attendees: (e.attendees ?? []).map((a) => ({
      email: a.emailAddress?.address ?? '',
      name: a.emailAddress?.name ?? null,
      type: a.type ?? 'required',
      response: a.status?.response ?? 'none',
    })),
    organizer: e.organizer?.emailAddress
      ? { email: e.organizer.emailAddress.address ?? '', name: e.organizer.emailAddress.name ?? null }
      : null,
    isOrganizer: e.isOrganizer === true,
    hasAttachments: e.hasAttachments === true,
    myResponse: e.responseStatus?.response ?? 'none',
    recurrence: e.recurrence ?? null,
    onlineMeetingUrl: e.onlineMeeting?.joinUrl ?? null,
    showAs: e.showAs ?? 'busy',
    sensitivity: e.sensitivity ?? 'normal',
    importance: e.importance ?? 'normal',
    isCancelled: e.isCancelled === true,
    reminderMinutesBeforeStart: e.isReminderOn === false ? null : (e.reminderMinutesBeforeStart ?? null),
    categories: e.categories ?? [],
    webLink: e.webLink ?? null,
    createdAt: e.createdDateTime ?? null,
    lastModifiedAt: e.lastModifiedDateTime ?? null,
    changeKey: e.changeKey ?? null,
  };
}

// ---------------------------------------------------------------- input pieces

const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

export const RecurrenceInput = z
  .object({
    pattern: z
      .enum(['daily', 'weekly', 'absoluteMonthly', 'relativeMonthly', 'absoluteYearly', 'relativeYearly'])
      .describe(
        'daily; weekly (daysOfWeek); absoluteMonthly (dayOfMonth); relativeMonthly (index + daysOfWeek, e.g. second Tuesday); absoluteYearly (month + dayOfMonth); relativeYearly (month + index + daysOfWeek).',
      ),
    interval: z
      .number()
      .int()
      .min(1)
      .max(99)
      .optional()
      .describe('Every N days/weeks/months/years (default 1).'),
    daysOfWeek: z
      .array(z.enum(DAYS))
      .min(1)
      .max(7)
      .optional()
      .describe('Days for weekly and relative patterns.'),
    dayOfMonth: z
      .number()
      .int()
      .min(1)
      .max(31)
      .optional()
      .describe('Day of the month for absolute patterns.'),
    month: z.number().int().min(1).max(12).optional().describe('Month (1-12) for yearly patterns.'),
    index: z
      .enum(['first', 'second', 'third', 'fourth', 'last'])
      .optional()
      .describe('Which matching weekday of the month, for relative patterns.'),
    firstDayOfWeek: z
      .enum(DAYS)
      .optional()
      .describe('Week start for weekly patterns with interval > 1 (default sunday).'),
    range: z
      .object({
        type: z
          .enum(['endDate', 'noEnd', 'numbered'])
          .describe('endDate (until endDate), noEnd, or numbered (occurrences).'),
        startDate: z
          .string()
          .regex(/^\d{4}-\d{2}-\d{2}$/)
          .optional()
          .describe('First date of the series (default: the date of start in its zone).'),
        endDate: z
          .string()
          .regex(/^\d{4}-\d{2}-\d{2}$/)
          .optional()
          .describe('Last date (inclusive) for endDate ranges.'),
        occurrences: z
          .number()
          .int()
          .min(1)
          .max(999)
          .optional()
          .describe('Number of occurrences for numbered ranges.'),
      })
      .strict()
      .describe('How long the series runs.'),
  })
  .strict()
  .superRefine((r, ctx) => {
    const need = (cond: boolean, path: string, message: string) => {
      if (!cond) ctx.addIssue({ code: 'custom', path: [path], message });
    };
    if (r.pattern === 'weekly' || r.pattern.startsWith('relative'))
      need(Boolean(r.daysOfWeek?.length), 'daysOfWeek', `is required for a ${r.pattern} pattern`);
    if (r.pattern.startsWith('absolute'))
      need(r.dayOfMonth !== undefined, 'dayOfMonth', `is required for ${r.pattern}`);
    if (r.pattern.endsWith('Yearly')) need(r.month !== undefined, 'month', `is required for ${r.pattern}`);
    if (r.range.type === 'endDate' && !r.range.endDate)
      ctx.addIssue({
        code: 'custom',
        path: ['range', 'endDate'],
        message: 'is required for an endDate range',
      });
    if (r.range.type === 'numbered' && !r.range.occurrences)
      ctx.addIssue({
        code: 'custom',
        path: ['range', 'occurrences'],
        message: 'is required for a numbered range',
      });
  })
  .describe('Makes the event a recurring series.');
export type RecurrenceInput = z.infer<typeof RecurrenceInput>;

export const AttendeeInput = z
  .object({
    email: z.string().email().max(320).describe('SMTP address of the attendee.'),
    name: z.string().max(256).optional().describe('Display name (optional).'),
    type: z.enum(['required', 'optional', 'resource']).optional().describe('Default required.'),
  })
  .strict();

/** Fields shared by create and update (all optional here; create requires some). */
export const eventFields = {
  subject: z.string().max(255).describe('Title of the event.'),
  body: z.string().max(100_000).describe('Description / agenda.'),
  bodyType: z.enum(['text', 'html']).describe('Format of body (default text).'),
  start: DateTimeInput.describe(
    'Start: an ISO instant with offset, {dateTime, timeZone} (local time in an IANA or Windows zone; best for series so they keep their local time over DST), or {date} for all-day events.',
  ),
  end: DateTimeInput.describe(
    'End, in the same forms as start; for all-day events the day after the last day.',
  ),
  location: z.string().max(255).describe('Where (free text); empty string clears it.'),
  attendees: z.array(AttendeeInput).max(500).describe('Invitees; invitations are sent by Outlook.'),
  teamsMeeting: z.boolean().describe('Add a Microsoft Teams online meeting (join link in the output).'),
  recurrence: RecurrenceInput.nullable(),
  reminderMinutesBeforeStart: z
    .number()
    .int()
    .min(0)
    .max(40320)
    .nullable()
    .describe('Reminder in minutes before the start; null turns the reminder off.'),
  showAs: z
    .enum(['free', 'tentative', 'busy', 'oof', 'workingElsewhere'])
    .describe('Free/busy status shown to others.'),
  sensitivity: z.enum(['normal', 'personal', 'private', 'confidential']).describe('Privacy flag.'),
  importance: z.enum(['low', 'normal', 'high']).describe('Importance.'),
  categories: z.array(z.string().max(255)).max(50).describe('Outlook category names.'),
};

type EventFieldsInput = Partial<{
  subject: string;
  body: string;
  bodyType: 'text' | 'html';
  start: DateTimeInput;
  end: DateTimeInput;
  location: string;
  attendees: Array<z.infer<typeof AttendeeInput>>;
  teamsMeeting: boolean;
  recurrence: RecurrenceInput | null;
  reminderMinutesBeforeStart: number | null;
  showAs: string;
  sensitivity: string;
  importance: string;
  categories: string[];
}>;

function problem(field: string, message: string): Problem {
  return new Problem('invalid_input', `${field} ${message}`, { errors: [{ field, message }] });
}

/**
 * Our event input → Graph's event body (only the fields given, so it serves PATCH too).
 * `zone` is the caller's zone, used for all-day dates and a series' default start date.
 */
export function toGraphEvent(input: EventFieldsInput, zone: string): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (input.subject !== undefined) body.subject = input.subject;
  if (input.body !== undefined) body.body = { contentType: input.bodyType ?? 'text', content: input.body };
  if ((input.start === undefined) !== (input.end === undefined)) {
    throw problem(
      input.start === undefined ? 'start' : 'end',
      'must be given together with the other end of the event',
    );
  }
  if (input.start !== undefined && input.end !== undefined) {
    const allDay = isDateInput(input.start);
    if (allDay !== isDateInput(input.end))
      throw problem('end', 'must be a {date} exactly when start is a {date}');
    const s = parseInput(input.start, 'start');
    const e = parseInput(input.end, 'end');
    if (allDay ? e <= s : e < s)
      throw problem(
        'end',
        allDay ? 'must be a later date than start (exclusive)' : 'must not be before start',
      );
    body.isAllDay = allDay;
    body.start = toGraphDateTime(input.start, 'start', zone);
    body.end = toGraphDateTime(input.end, 'end', zone);
  }
  if (input.location !== undefined) body.location = { displayName: input.location };
  if (input.attendees !== undefined) {
    body.attendees = input.attendees.map((a) => ({
      type: a.type ?? 'required',
      emailAddress: { address: a.email, ...(a.name ? { name: a.name } : {}) },
    }));
  }
  if (input.teamsMeeting !== undefined) {
    body.isOnlineMeeting = input.teamsMeeting;
    if (input.teamsMeeting) body.onlineMeetingProvider = 'teamsForBusiness';
  }
  if (input.recurrence !== undefined) {
    body.recurrence =
      input.recurrence === null ? null : toGraphRecurrence(input.recurrence, input.start, zone);
  }
  if (input.reminderMinutesBeforeStart !== undefined) {
    body.isReminderOn = input.reminderMinutesBeforeStart !== null;
    if (input.reminderMinutesBeforeStart !== null)
      body.reminderMinutesBeforeStart = input.reminderMinutesBeforeStart;
  }
  if (input.showAs !== undefined) body.showAs = input.showAs;
  if (input.sensitivity !== undefined) body.sensitivity = input.sensitivity;
  if (input.importance !== undefined) body.importance = input.importance;
  if (input.categories !== undefined) body.categories = input.categories;
  return body;
}

/** Our recurrence → Graph's patternedRecurrence (https://learn.microsoft.com/graph/api/resources/patternedrecurrence). */
function toGraphRecurrence(
  r: RecurrenceInput,
  start: DateTimeInput | undefined,
  zone: string,
): Record<string, unknown> {
  let startDate = r.range.startDate;
  if (!startDate) {
    if (!start) throw problem('recurrence.range.startDate', 'is required when start is not given');
    // The series starts on the start's own local date (its zone; instants in the caller's zone).
    const dt = parseInput(start, 'start');
    startDate = (typeof start === 'string' ? dt.setZone(zone) : dt).toISODate() as string;
  }
  const pattern: Record<string, unknown> = { type: r.pattern, interval: r.interval ?? 1 };
  if (r.daysOfWeek) pattern.daysOfWeek = r.daysOfWeek;
  if (r.dayOfMonth !== undefined) pattern.dayOfMonth = r.dayOfMonth;
  if (r.month !== undefined) pattern.month = r.month;
  if (r.index) pattern.index = r.index;
  if (r.firstDayOfWeek) pattern.firstDayOfWeek = r.firstDayOfWeek;
  const range: Record<string, unknown> = { type: r.range.type, startDate };
  if (r.range.endDate) range.endDate = r.range.endDate;
  if (r.range.occurrences) range.numberOfOccurrences = r.range.occurrences;
  if (start && typeof start === 'object' && 'timeZone' in start)
    range.recurrenceTimeZone = graphZoneName(ianaZone(start.timeZone) ?? 'UTC');
  return { pattern, range };
}
