/**
 * What every calendar action file shares: the output zone field, the caller's zone, windows,
 * Graph's time zone errors, another user's calendar (`user`), and getSchedule's answer.
 */
import type { GraphError } from '../../graph/errors';
import { seg } from '../../graph/client';
import { Problem } from '../../http/problem';
import type { ActionContext } from '../../actions/types';
import { z } from 'zod';
import { callerZone, TimeZoneField, toMillis, type DateTimeInput } from './time';

const DAY_MS = 24 * 3600 * 1000;

export const timeZone = TimeZoneField.optional().describe(
  'IANA zone (e.g. Europe/Berlin) for every time in the output. Default: the request zone (Prefer: outlook.timezone / X-Timezone), else UTC.',
);

export function zoneFor(input: { timeZone?: string | undefined }, ctx: ActionContext): string {
  return callerZone(input.timeZone, ctx.timezone);
}

export function invalid(field: string, message: string): Problem {
  return new Problem('invalid_input', `${field} ${message}`, { errors: [{ field, message }] });
}

/** A window [start, end): end after start, at most `maxDays` long. */
export function checkWindow(start: DateTimeInput, end: DateTimeInput, zone: string, maxDays?: number): void {
  const s = toMillis(start, 'start', zone);
  const e = toMillis(end, 'end', zone);
  if (e <= s) throw invalid('end', 'must be after start');
  if (maxDays !== undefined && e - s >= maxDays * DAY_MS)
    throw invalid('end', `must be less than ${maxDays} days after start`);
}

/** Graph's zone answers (an unknown zone name) become invalid_input naming the field (§1.1 codes). */
export function mapTimeZoneError(err: GraphError): Problem | undefined {
  if (err.code === 'TimeZoneNotSupportedException') {
    return new Problem('invalid_input', 'Microsoft Graph does not support the time zone given.', {
      graphCode: err.code,
      errors: [{ field: 'timeZone', message: 'is not supported by Microsoft Graph' }],
    });
  }
  return undefined;
}

/** The nextCursor of a calendar list (calendarView links carry the window, hence the length). */
export const cursor = z.string().max(8192).optional().describe('nextCursor of the previous page, unchanged.');

export const otherUser = z
  .string()
  .email()
  .max(320)
  .optional()
  .describe(
    "Another person's calendar, by their email address: they must have shared it with the user in Outlook (or made the user their delegate). Without it: the user's own calendar.",
  );

export function mailboxPath(user: string | undefined): string {
  return user ? `/users/${seg(user)}` : '/me';
}

/**
 * Another person's calendar (outlook-get-shared-events-calendars.md): Graph answers 403 when it
 * is not shared with the user, or shared only as free/busy (the organisation's default).
 */
export function notShared(err: GraphError, user: string | undefined): Problem | undefined {
  if (!user || err.status !== 403) return undefined;
  return new Problem(
    'calendar_not_shared',
    `${user} has not shared their calendar with this user (or shares only free/busy). Ask them to share it in Outlook ("Can view all details"), or use calendar.getSchedule for their free/busy.`,
    { user, graphCode: err.code },
  );
}

/** getSchedule's answer (calendar-getschedule.md): one scheduleInformation per address. */
export const ScheduleResponse = z.object({
  value: z.array(
    z
      .object({
        scheduleId: z.string(),
        availabilityView: z.string().nullable().optional(),
        scheduleItems: z
          .array(
            z
              .object({
                status: z.string().nullable().optional(),
                subject: z.string().nullable().optional(),
                location: z.string().nullable().optional(),
                isPrivate: z.boolean().nullable().optional(),
                start: z.object({ dateTime: z.string(), timeZone: z.string() }),
                end: z.object({ dateTime: z.string(), timeZone: z.string() }),
              })
              .passthrough(),
          )
          .nullable()
          .optional(),
        workingHours: z
          .object({
            daysOfWeek: z.array(z.string()).nullable().optional(),
            startTime: z.string().nullable().optional(),
            endTime: z.string().nullable().optional(),
            timeZone: z.object({ name: z.string().nullable().optional() }).partial().nullable().optional(),
          })
          .partial()
          .nullable()
          .optional(),
        error: z
          .object({
            message: z.string().nullable().optional(),
            responseCode: z.string().nullable().optional(),
          })
          .partial()
          .nullable()
          .optional(),
      })
      .passthrough(),
  ),
});
