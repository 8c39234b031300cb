/**
 * Calendar actions (issue 7): calendars, events in a window (calendarView, series expanded),
 * create/update/delete with time zones, recurrence, attendees and Teams meetings, invitation
 * responses and cancellation, one occurrence of a series, free/busy (getSchedule) and meeting-time
 * suggestions (findMeetingTimes). Reference §8.2; peers.md items 11 and 14.
 *
 * Time zones: every time in carries its zone (time.ts); every time out is
 * `{dateTime, timeZone, utc}` in the caller's IANA zone (the `timeZone` input, else the request's
 * `Prefer: outlook.timezone` / `X-Timezone`, else UTC; never server-local), all-day as `{date}`.
 * We ask Graph for that zone with `Prefer: outlook.timezone` and still convert from whatever zone
 * Graph answers in, so a shifted answer cannot shift our output.
 */
import { deletedOf, pageOf, untrusted } from '../../actions/output';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { seg, type GraphCall } from '../../graph/client';
import { explainEmpty, mergeBusy } from './availability';
import {
  checkWindow,
  cursor,
  mailboxPath,
  mapTimeZoneError,
  notShared,
  otherUser,
  ScheduleResponse,
  timeZone,
  zoneFor,
} from './common';
import './attachments';
import './rooms';
import { eventFields, GraphCalendar, mapEvent, toGraphEvent, EventOutSchema, TimeOutSchema } from './shape';
import {
  DateTimeInput,
  graphInstant,
  graphZoneName,
  ianaZone,
  timeOut,
  toGraphDateTime,
  toUtcIso,
} from './time';
import { decodeCursor, toPage } from '../../actions/cursor';
import { defineAction } from '../../actions/registry';
import type { ActionContext } from '../../actions/types';

/** A window (start and end) is required unless the call continues from a cursor. */
function requireWindowUnlessCursor(
  v: { cursor?: string; start?: unknown; end?: unknown },
  ctx: z.RefinementCtx,
): void {
  if (v.cursor) return;
  if (!v.start)
    ctx.addIssue({ code: 'custom', path: ['start'], message: 'is required (unless cursor is given)' });
  if (!v.end)
    ctx.addIssue({ code: 'custom', path: ['end'], message: 'is required (unless cursor is given)' });
}

const eventId = z
  .string()
  .min(1)
  .max(1024)
  .describe('Event id (an occurrence id addresses one occurrence of a series).');
const pageSize = z.number().int().min(1).max(100).optional().describe('Items per page (default 25).');

function eventPath(id: string): string {
  return `/me/events/${seg(id)}`;
}

// ---------------------------------------------------------------- calendars

const CalendarOut = z.object({
  id: z.string(),
  name: z.string(),
  color: z.string().nullable(),
  isDefault: z.boolean(),
  canEdit: z.boolean(),
  owner: z.string().nullable().describe('The owner’s email address.'),
});

const ScheduleTime = TimeOutSchema.optional();

const ScheduleOut = z.object({
  timeZone: z.string(),
  intervalMinutes: z.number(),
  people: z.array(
    z.object({
      email: z.string(),
      availabilityView: z
        .string()
        .describe(
          'One digit per interval: 0 free, 1 tentative, 2 busy, 3 out of office, 4 working elsewhere.',
        ),
      busy: z.array(z.object({ start: ScheduleTime, end: ScheduleTime, status: z.string() })),
      items: z.array(
        z.object({
          start: ScheduleTime,
          end: ScheduleTime,
          status: z.string(),
          subject: untrusted(z.string().nullable(), 'event'),
          location: untrusted(z.string().nullable(), 'event'),
          isPrivate: z.boolean(),
        }),
      ),
      workingHours: z
        .object({
          daysOfWeek: z.array(z.string()),
          startTime: z.string().nullable(),
          endTime: z.string().nullable(),
          timeZone: z.string().nullable(),
        })
        .nullable(),
      error: z.object({ code: z.string(), message: z.string() }).nullable(),
    }),
  ),
});

const MeetingTimesOut = z.object({
  suggestions: z.array(
    z.object({
      start: ScheduleTime,
      end: ScheduleTime,
      confidence: z.number().nullable(),
      organizerAvailability: z.string(),
      attendees: z.array(z.object({ email: z.string(), availability: z.string() })),
      reason: z.string().nullable(),
    }),
  ),
  emptyReason: z.string().nullable().describe('Why there is no suggestion (e.g. attendeesUnavailable).'),
  explanation: z.string().nullable().describe('emptyReason in words, with what to try next.'),
});

// https://learn.microsoft.com/graph/api/user-list-calendars
defineAction({
  id: 'calendar.listCalendars',
  service: 'calendar',
  summary: "List the user's calendars",
  description:
    'Lists the calendars of the connected user (id, name, color, whether it is the default and whether the user can edit it). Use a calendar id as calendarId to create events in or read events from a calendar other than the default one. Paged: pass nextCursor back as cursor.',
  input: z.object({ cursor }).strict(),
  output: pageOf(CalendarOut),
  feature: 'calendar',
  scopes: ['Calendars.Read'],
  kind: 'read',
  idempotent: true,
  toGraph: (input) =>
    input.cursor
      ? { method: 'GET', url: decodeCursor('calendar.listCalendars', input.cursor) }
      : { method: 'GET', url: '/me/calendars', query: { $top: 50 } },
  fromGraph: (res) =>
    toPage('calendar.listCalendars', res.body, (raw) => {
      const c = GraphCalendar.parse(raw);
      return {
        id: c.id,
        name: c.name ?? '',
        color: c.color ?? null,
        isDefault: c.isDefaultCalendar === true,
        canEdit: c.canEdit !== false,
        owner: c.owner?.address ?? null,
      };
    }),
});

// ---------------------------------------------------------------- reading events

const ListEventsInput = z
  .object({
    start: DateTimeInput.optional().describe(
      'Window start (required unless cursor): an instant with offset, {dateTime, timeZone}, or {date} (midnight in timeZone).',
    ),
    end: DateTimeInput.optional().describe('Window end (required unless cursor), same forms as start.'),
    calendarId: z
      .string()
      .min(1)
      .max(1024)
      .optional()
      .describe('Read one calendar (default: the default calendar and all others in the view).'),
    user: otherUser,
    timeZone,
    pageSize,
    cursor,
  })
  .strict()
  .superRefine(requireWindowUnlessCursor);

// https://learn.microsoft.com/graph/api/user-list-calendarview (reference §8.2): window required,
// its offset honoured; series are expanded into occurrences and exceptions.
defineAction({
  id: 'calendar.listEvents',
  service: 'calendar',
  summary: 'List events in a time window (recurring series expanded)',
  description:
    'Lists the events that overlap a time window, with recurring series expanded into their individual occurrences (type occurrence / exception, seriesMasterId set). start and end are required. Every time in the result is {dateTime, timeZone, utc} in the requested IANA zone (timeZone input or request zone, default UTC); all-day events are {date} and stay on their date in any zone. Ordered by start. Paged: pass nextCursor back as cursor. With user, reads a colleague’s calendar they have shared with the user (calendar_not_shared when they have not: use getSchedule for their free/busy).',
  input: ListEventsInput,
  output: pageOf(EventOutSchema),
  feature: 'calendar',
  scopes: ['Calendars.Read', 'Calendars.Read.Shared'],
  kind: 'read',
  idempotent: true,
  toGraph: (input, ctx): GraphCall => {
    const zone = zoneFor(input, ctx);
    const prefer = graphZoneName(zone);
    if (input.cursor)
      return { method: 'GET', url: decodeCursor('calendar.listEvents', input.cursor), timezone: prefer };
    const start = input.start as DateTimeInput;
    const end = input.end as DateTimeInput;
    checkWindow(start, end, zone);
    const base = mailboxPath(input.user);
    return {
      method: 'GET',
      url: input.calendarId
        ? `${base}/calendars/${seg(input.calendarId)}/calendarView`
        : input.user
          ? `${base}/calendar/calendarView`
          : `${base}/calendarView`,
      query: {
        startDateTime: toUtcIso(start, 'start', zone),
        endDateTime: toUtcIso(end, 'end', zone),
        $top: input.pageSize ?? 25,
        $orderby: 'start/dateTime',
      },
      timezone: prefer,
    };
  },
  fromGraph: (res, input, ctx) =>
    toPage('calendar.listEvents', res.body, (e) => mapEvent(e, zoneFor(input, ctx))),
  mapError: (err, input) => notShared(err, input.user) ?? mapTimeZoneError(err),
});

// https://learn.microsoft.com/graph/api/event-get
defineAction({
  id: 'calendar.getEvent',
  service: 'calendar',
  summary: 'Get one event',
  description:
    'Returns one event (or one occurrence of a series) with subject, body, start/end in the requested IANA zone ({dateTime, timeZone, utc}; all-day as {date}), location, attendees with their responses, organizer, recurrence, Teams join URL, show-as, sensitivity and reminder.',
  input: z.object({ eventId, user: otherUser, timeZone }).strict(),
  output: EventOutSchema,
  feature: 'calendar',
  scopes: ['Calendars.Read', 'Calendars.Read.Shared'],
  kind: 'read',
  idempotent: true,
  toGraph: (input, ctx) => ({
    method: 'GET',
    url: `${mailboxPath(input.user)}/events/${seg(input.eventId)}`,
    timezone: graphZoneName(zoneFor(input, ctx)),
  }),
  fromGraph: (res, input, ctx) => {
    ctx.targets.push(input.eventId);
    return mapEvent(res.body, zoneFor(input, ctx));
  },
  mapError: (err, input) => notShared(err, input.user),
});

// https://learn.microsoft.com/graph/api/event-list-instances
defineAction({
  id: 'calendar.listEventInstances',
  service: 'calendar',
  summary: 'List the occurrences of a recurring series in a window',
  description:
    'Lists the occurrences and exceptions of one recurring series (give the series master id) between start and end. Use an occurrence id with updateEvent, deleteEvent, respondToEvent or cancelEvent to act on that occurrence only. Times as in listEvents. Paged via cursor.',
  input: z
    .object({
      eventId: eventId.describe('Id of the series master.'),
      start: DateTimeInput.optional().describe('Window start (required unless cursor).'),
      end: DateTimeInput.optional().describe('Window end (required unless cursor).'),
      timeZone,
      pageSize,
      cursor,
    })
    .strict()
    .superRefine(requireWindowUnlessCursor),
  output: pageOf(EventOutSchema),
  feature: 'calendar',
  scopes: ['Calendars.Read'],
  kind: 'read',
  idempotent: true,
  toGraph: (input, ctx): GraphCall => {
    const zone = zoneFor(input, ctx);
    const prefer = graphZoneName(zone);
    if (input.cursor)
      return {
        method: 'GET',
        url: decodeCursor('calendar.listEventInstances', input.cursor),
        timezone: prefer,
      };
    const start = input.start as DateTimeInput;
    const end = input.end as DateTimeInput;
    checkWindow(start, end, zone);
    return {
      method: 'GET',
      url: `${eventPath(input.eventId)}/instances`,
      query: {
        startDateTime: toUtcIso(start, 'start', zone),
        endDateTime: toUtcIso(end, 'end', zone),
        $top: input.pageSize ?? 25,
      },
      timezone: prefer,
    };
  },
  fromGraph: (res, input, ctx) => {
    ctx.targets.push(input.eventId);
    return toPage('calendar.listEventInstances', res.body, (e) => mapEvent(e, zoneFor(input, ctx)));
  },
});

// ---------------------------------------------------------------- writing events

const CreateEventInput = z
  .object({
    subject: eventFields.subject,
    body: eventFields.body.optional(),
    bodyType: eventFields.bodyType.optional(),
    start: eventFields.start,
    end: eventFields.end,
    location: eventFields.location.optional(),
    attendees: eventFields.attendees.optional(),
    teamsMeeting: eventFields.teamsMeeting.optional(),
    recurrence: eventFields.recurrence.optional(),
    reminderMinutesBeforeStart: eventFields.reminderMinutesBeforeStart.optional(),
    showAs: eventFields.showAs.optional(),
    sensitivity: eventFields.sensitivity.optional(),
    importance: eventFields.importance.optional(),
    categories: eventFields.categories.optional(),
    calendarId: z
      .string()
      .min(1)
      .max(1024)
      .optional()
      .describe('Target calendar (default: the default calendar).'),
    timeZone,
  })
  .strict();

// https://learn.microsoft.com/graph/api/user-post-events (reference §8.2): 201 with the event;
// invitations go to attendees automatically. transactionId makes retries of the POST safe.
defineAction({
  id: 'calendar.createEvent',
  service: 'calendar',
  summary: 'Create an event or meeting (time zones, all-day, recurrence, attendees, Teams)',
  description:
    'Creates an event in the default calendar (or calendarId). Give start/end as an ISO instant with offset, as {dateTime, timeZone} (local time in an IANA or Windows zone; use this for recurring meetings so they stay at the same local time across DST), or as {date} for all-day events (end date exclusive). With attendees it becomes a meeting and Outlook sends the invitations; to book a meeting room, add its email (from findRooms) as an attendee of type resource: the room accepts by itself when free, declines on a conflict (its answer shows in getEvent). teamsMeeting adds a Teams join link. recurrence makes a daily/weekly/monthly/yearly series with an end date, a count or no end. Returns the created event, times in the requested zone. Send an Idempotency-Key header to make retries safe.',
  input: CreateEventInput,
  output: EventOutSchema,
  feature: 'calendar',
  scopes: ['Calendars.ReadWrite'],
  kind: 'write',
  idempotent: false,
  idempotencyKey: true,
  successStatus: 201,
  outcomeCheck:
    'Look for the event with the transactionId in `check` (or list the calendar around its start)',
  toGraph: (input, ctx) => createEventCall(input, ctx),
  fromGraph: (res, input, ctx) => {
    const event = mapEvent(res.body, zoneFor(input, ctx));
    ctx.targets.push(event.id);
    return event;
  },
  // The repeat carries the same transactionId, so Graph answers with the event it already made.
  recover: async (input, ctx) => {
    const res = await ctx.graph(createEventCall(input, ctx));
    const event = mapEvent(res.body, zoneFor(input, ctx));
    ctx.targets.push(event.id);
    return { status: 'done', output: event };
  },
  mapError: mapTimeZoneError,
});

function createEventCall(input: z.output<typeof CreateEventInput>, ctx: ActionContext): GraphCall {
  const zone = zoneFor(input, ctx);
  const body = toGraphEvent(input, zone);
  // Graph dedupes POSTs with the same transactionId (event resource: "to avoid redundant POST
  // operations in case of client retries"), so the chokepoint may retry this one. With an
  // Idempotency-Key it is derived from the key, so a repeat after a crash finds the same event.
  body.transactionId = ctx.idempotencyToken ?? randomUUID();
  ctx.check.transactionId = String(body.transactionId);
  return {
    method: 'POST',
    url: input.calendarId ? `/me/calendars/${seg(input.calendarId)}/events` : '/me/events',
    body,
    idempotent: true,
    timezone: graphZoneName(zoneFor(input, ctx)),
  };
}

const UpdateEventInput = z
  .object({
    eventId,
    subject: eventFields.subject.optional(),
    body: eventFields.body.optional(),
    bodyType: eventFields.bodyType.optional(),
    start: eventFields.start.optional(),
    end: eventFields.end.optional(),
    location: eventFields.location.optional(),
    attendees: eventFields.attendees
      .optional()
      .describe('The full new attendee list (replaces the old one).'),
    teamsMeeting: eventFields.teamsMeeting.optional(),
    recurrence: eventFields.recurrence
      .optional()
      .describe('New recurrence, or null to make it a single event.'),
    reminderMinutesBeforeStart: eventFields.reminderMinutesBeforeStart.optional(),
    showAs: eventFields.showAs.optional(),
    sensitivity: eventFields.sensitivity.optional(),
    importance: eventFields.importance.optional(),
    categories: eventFields.categories.optional(),
    timeZone,
  })
  .strict()
  .superRefine((v, ctx) => {
    const changes = Object.keys(v).filter((k) => k !== 'eventId' && k !== 'timeZone');
    if (changes.length === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['subject'],
        message: 'nothing to change: give at least one field',
      });
  });

// https://learn.microsoft.com/graph/api/event-update (reference §8.2): only the changed
// properties; an occurrence id edits that occurrence alone (it becomes an exception).
defineAction({
  id: 'calendar.updateEvent',
  service: 'calendar',
  summary: 'Change an event, a whole series, or one occurrence',
  description:
    'Updates the given fields of an event. With a series master id the whole series changes; with an occurrence id (from listEvents or listEventInstances) only that occurrence changes and the rest of the series stays as it was. Times take the same forms as in createEvent; start and end go together. As organizer of a meeting, Outlook sends the update to the attendees. Returns the updated event.',
  input: UpdateEventInput,
  output: EventOutSchema,
  feature: 'calendar',
  scopes: ['Calendars.ReadWrite'],
  kind: 'write',
  idempotent: true,
  toGraph: (input, ctx) => {
    const zone = zoneFor(input, ctx);
    return {
      method: 'PATCH',
      url: eventPath(input.eventId),
      body: toGraphEvent(input, zone),
      timezone: graphZoneName(zone),
    };
  },
  fromGraph: (res, input, ctx) => {
    ctx.targets.push(input.eventId);
    return mapEvent(res.body, zoneFor(input, ctx));
  },
  mapError: mapTimeZoneError,
});

// https://learn.microsoft.com/graph/api/event-delete: 204; an organizer's delete cancels the
// meeting for attendees.
defineAction({
  id: 'calendar.deleteEvent',
  service: 'calendar',
  summary: 'Delete an event, a series or one occurrence',
  description:
    'Deletes an event. A series master id deletes the whole series; an occurrence id deletes only that occurrence. If the user organizes the meeting, attendees get a cancellation (use cancelEvent to include a message). Returns {eventId, deleted: true}.',
  input: z.object({ eventId }).strict(),
  output: deletedOf('eventId'),
  feature: 'calendar',
  scopes: ['Calendars.ReadWrite'],
  kind: 'destructive',
  idempotent: true,
  toGraph: (input) => ({ method: 'DELETE', url: eventPath(input.eventId) }),
  fromGraph: (_res, input, ctx) => {
    ctx.targets.push(input.eventId);
    return { eventId: input.eventId, deleted: true };
  },
});

const RESPONSE_STATUS = {
  accept: 'accepted',
  tentativelyAccept: 'tentativelyAccepted',
  decline: 'declined',
} as const;

// https://learn.microsoft.com/graph/api/event-accept, event-tentativelyaccept, event-decline: 202.
defineAction({
  id: 'calendar.respondToEvent',
  service: 'calendar',
  summary: 'Accept, tentatively accept or decline a meeting invitation',
  description:
    "Answers a meeting invitation in the user's calendar: accept, tentativelyAccept or decline, with an optional comment. sendResponse (default true) tells the organizer; false records the answer only in the user's calendar. An occurrence id answers for that occurrence only. Organizers cannot respond to their own meetings. Returns {eventId, response}.",
  input: z
    .object({
      eventId,
      response: z.enum(['accept', 'tentativelyAccept', 'decline']).describe('The answer.'),
      comment: z.string().max(10_000).optional().describe('Message to the organizer.'),
      sendResponse: z.boolean().optional().describe('Notify the organizer (default true).'),
    })
    .strict(),
  output: z.object({
    eventId: z.string(),
    response: z.string().describe('Your response as Outlook records it.'),
  }),
  feature: 'calendar',
  scopes: ['Calendars.ReadWrite'],
  kind: 'write',
  idempotent: true,
  toGraph: (input) => ({
    method: 'POST',
    url: `${eventPath(input.eventId)}/${input.response}`,
    body: {
      ...(input.comment !== undefined ? { comment: input.comment } : {}),
      sendResponse: input.sendResponse ?? true,
    },
  }),
  fromGraph: (_res, input, ctx) => {
    ctx.targets.push(input.eventId);
    return { eventId: input.eventId, response: RESPONSE_STATUS[input.response] };
  },
});

// https://learn.microsoft.com/graph/api/event-cancel: organizer only, 202.
defineAction({
  id: 'calendar.cancelEvent',
  service: 'calendar',
  summary: 'Cancel a meeting you organize, with a message to attendees',
  description:
    "Cancels a meeting the user organizes and sends the attendees a cancellation with the optional comment; the meeting leaves the organizer's calendar. An occurrence id cancels that occurrence only; a series master id cancels the series. Fails with invalid_input when the user is not the organizer (use respondToEvent with decline instead). Returns {eventId, cancelled: true}.",
  input: z
    .object({
      eventId,
      comment: z.string().max(10_000).optional().describe('Message sent with the cancellation.'),
    })
    .strict(),
  output: z.object({ eventId: z.string(), cancelled: z.literal(true) }),
  feature: 'calendar',
  scopes: ['Calendars.ReadWrite'],
  kind: 'destructive',
  idempotent: true,
  toGraph: (input) => ({
    method: 'POST',
    url: `${eventPath(input.eventId)}/cancel`,
    body: input.comment !== undefined ? { comment: input.comment } : {},
  }),
  fromGraph: (_res, input, ctx) => {
    ctx.targets.push(input.eventId);
    return { eventId: input.eventId, cancelled: true };
  },
});

// ---------------------------------------------------------------- availability

const people = z.array(z.string().email().max(320)).min(1).max(20);

// https://learn.microsoft.com/graph/api/calendar-getschedule (reference §8.2): up to 20 people,
// under 62 days; unknown people come back with an error entry instead of failing the call.
defineAction({
  id: 'calendar.getSchedule',
  service: 'calendar',
  summary: 'Free/busy of up to 20 people over a window',
  description:
    'Returns, for each of up to 20 email addresses, the busy blocks between start and end (overlapping events merged; status busy, tentative, oof or workingElsewhere), the raw schedule items (subjects only where their sharing allows), an availabilityView string (one digit per interval: 0 free, 1 tentative, 2 busy, 3 out of office, 4 working elsewhere) and their working hours. A person Outlook cannot resolve gets an error entry; the others still come back. Window under 62 days. Times in the requested IANA zone with utc.',
  input: z
    .object({
      people: people.describe('Email addresses (1-20).'),
      start: DateTimeInput.describe('Window start.'),
      end: DateTimeInput.describe('Window end (less than 62 days after start).'),
      intervalMinutes: z
        .number()
        .int()
        .min(5)
        .max(1440)
        .optional()
        .describe('availabilityView slot length (default 30).'),
      timeZone,
    })
    .strict(),
  output: ScheduleOut,
  feature: 'calendar',
  scopes: ['Calendars.ReadBasic'],
  kind: 'read',
  idempotent: true,
  toGraph: (input, ctx) => {
    const zone = zoneFor(input, ctx);
    checkWindow(input.start, input.end, zone, 62);
    return {
      method: 'POST',
      url: '/me/calendar/getSchedule',
      body: {
        schedules: input.people,
        startTime: toGraphDateTime(input.start, 'start', zone),
        endTime: toGraphDateTime(input.end, 'end', zone),
        availabilityViewInterval: input.intervalMinutes ?? 30,
      },
      timezone: graphZoneName(zone),
    };
  },
  fromGraph: (res, input, ctx) => {
    const zone = zoneFor(input, ctx);
    const parsed = ScheduleResponse.parse(res.body);
    return {
      timeZone: zone,
      intervalMinutes: input.intervalMinutes ?? 30,
      people: parsed.value.map((p) => {
        const items = (p.scheduleItems ?? []).flatMap((i) => {
          const s = graphInstant(i.start);
          const e = graphInstant(i.end);
          return s && e
            ? [{ startMs: s.toMillis(), endMs: e.toMillis(), status: i.status ?? 'busy', item: i }]
            : [];
        });
        const wh = p.workingHours;
        const whZone = wh?.timeZone?.name ?? null;
        return {
          email: p.scheduleId,
          availabilityView: p.availabilityView ?? '',
          busy: mergeBusy(items).map((b) => ({
            start: timeOut(
              { dateTime: new Date(b.startMs).toISOString().slice(0, 23), timeZone: 'UTC' },
              zone,
            ),
            end: timeOut({ dateTime: new Date(b.endMs).toISOString().slice(0, 23), timeZone: 'UTC' }, zone),
            status: b.status,
          })),
          items: items.map(({ item }) => ({
            start: timeOut(item.start, zone),
            end: timeOut(item.end, zone),
            status: item.status ?? 'busy',
            subject: item.subject ?? null,
            location: item.location ?? null,
            isPrivate: item.isPrivate === true,
          })),
          workingHours: wh
            ? {
                daysOfWeek: wh.daysOfWeek ?? [],
                startTime: wh.startTime?.slice(0, 8) ?? null,
                endTime: wh.endTime?.slice(0, 8) ?? null,
                timeZone: whZone ? (ianaZone(whZone) ?? whZone) : null,
              }
            : null,
          error: p.error ? { code: p.error.responseCode ?? 'unknown', message: p.error.message ?? '' } : null,
        };
      }),
    };
  },
  mapError: mapTimeZoneError,
});

const MeetingTimesResponse = z.object({
  emptySuggestionsReason: z.string().nullable().optional(),
  meetingTimeSuggestions: z
    .array(
      z
        .object({
          confidence: z.number().nullable().optional(),
          organizerAvailability: z.string().nullable().optional(),
          suggestionReason: z.string().nullable().optional(),
          attendeeAvailability: z
            .array(
              z
                .object({
                  availability: z.string().nullable().optional(),
                  attendee: z
                    .object({
                      emailAddress: z
                        .object({ address: z.string().nullable().optional() })
                        .partial()
                        .nullable()
                        .optional(),
                    })
                    .partial()
                    .nullable()
                    .optional(),
                })
                .partial(),
            )
            .nullable()
            .optional(),
          meetingTimeSlot: z.object({
            start: z.object({ dateTime: z.string(), timeZone: z.string() }),
            end: z.object({ dateTime: z.string(), timeZone: z.string() }),
          }),
        })
        .passthrough(),
    )
    .nullable()
    .optional(),
});

// https://learn.microsoft.com/graph/api/user-findmeetingtimes (reference §8.2): delegated only;
// emptySuggestionsReason says why nothing fits.
defineAction({
  id: 'calendar.findMeetingTimes',
  service: 'calendar',
  summary: 'Suggest meeting times when the attendees are free',
  description:
    "Finds times within a window when the user and the attendees are free for the meeting length, by default inside working hours. By default only times where every attendee is free are suggested (minimumAttendeePercentage 100); lower it to accept partial attendance. Returns suggestions ordered by confidence then time ({start, end} in the requested IANA zone with utc, each attendee's availability), or an empty list with emptyReason (Outlook's code) and an explanation when nothing fits.",
  input: z
    .object({
      attendees: z
        .array(
          z
            .object({
              email: z.string().email().max(320).describe('Attendee address.'),
              type: z.enum(['required', 'optional']).optional().describe('Default required.'),
            })
            .strict(),
        )
        .min(1)
        .max(20)
        .describe('People to meet with (the user is the organizer).'),
      durationMinutes: z.number().int().min(5).max(1440).describe('Meeting length in minutes.'),
      start: DateTimeInput.describe('Start of the search window.'),
      end: DateTimeInput.describe('End of the search window.'),
      workingHoursOnly: z.boolean().optional().describe('Only inside working hours (default true).'),
      maxCandidates: z
        .number()
        .int()
        .min(1)
        .max(20)
        .optional()
        .describe('At most this many suggestions (default 5).'),
      minimumAttendeePercentage: z
        .number()
        .min(0)
        .max(100)
        .optional()
        .describe('Lowest acceptable confidence that attendees can come (default 100: everyone free).'),
      isOrganizerOptional: z
        .boolean()
        .optional()
        .describe('Suggest times even when the user is busy (default false).'),
      timeZone,
    })
    .strict(),
  output: MeetingTimesOut,
  feature: 'calendar',
  scopes: ['Calendars.Read.Shared'],
  kind: 'read',
  idempotent: true,
  toGraph: (input, ctx) => {
    const zone = zoneFor(input, ctx);
    checkWindow(input.start, input.end, zone, 62);
    return {
      method: 'POST',
      url: '/me/findMeetingTimes',
      body: {
        attendees: input.attendees.map((a) => ({
          type: a.type ?? 'required',
          emailAddress: { address: a.email },
        })),
        timeConstraint: {
          activityDomain: input.workingHoursOnly === false ? 'unrestricted' : 'work',
          timeSlots: [
            {
              start: toGraphDateTime(input.start, 'start', zone),
              end: toGraphDateTime(input.end, 'end', zone),
            },
          ],
        },
        meetingDuration: `PT${input.durationMinutes}M`,
        maxCandidates: input.maxCandidates ?? 5,
        minimumAttendeePercentage: input.minimumAttendeePercentage ?? 100,
        isOrganizerOptional: input.isOrganizerOptional ?? false,
        returnSuggestionReasons: true,
      },
      timezone: graphZoneName(zone),
    };
  },
  fromGraph: (res, input, ctx) => {
    const zone = zoneFor(input, ctx);
    const parsed = MeetingTimesResponse.parse(res.body);
    const suggestions = (parsed.meetingTimeSuggestions ?? []).map((s) => ({
      start: timeOut(s.meetingTimeSlot.start, zone),
      end: timeOut(s.meetingTimeSlot.end, zone),
      confidence: s.confidence ?? null,
      organizerAvailability: s.organizerAvailability ?? 'unknown',
      attendees: (s.attendeeAvailability ?? []).map((a) => ({
        email: a.attendee?.emailAddress?.address ?? '',
        availability: a.availability ?? 'unknown',
      })),
      reason: s.suggestionReason || null,
    }));
    const reason = suggestions.length === 0 ? parsed.emptySuggestionsReason || 'unknown' : null;
    return { suggestions, emptyReason: reason, explanation: explainEmpty(reason, suggestions.length) };
  },
  mapError: mapTimeZoneError,
});
