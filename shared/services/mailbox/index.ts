/**
 * Mailbox settings (https://learn.microsoft.com/graph/api/resources/mailboxsettings): out of office
 * (automatic replies), working hours, time zone, language and formats. Read and written through
 * `/me/mailboxSettings` (user-update-mailboxsettings.md: PATCH only what changes; the answer holds
 * what was set). Writing needs the `mailbox-settings` feature (MailboxSettings.ReadWrite), asked
 * for on its own (incremental consent).
 *
 * Times follow the calendar's rules (shared/services/calendar/time.ts): a schedule is given as an
 * instant with an offset or a local time with a zone, and read back in the caller's zone with UTC.
 */
import { z } from 'zod';
import { defineAction } from '../../actions/registry';
import type { ActionContext } from '../../actions/types';
import { Problem } from '../../http/problem';
import {
  callerZone,
  DateTimeInput,
  graphZoneName,
  ianaZone,
  TimeOutSchema,
  TimeZoneField,
  timeOut,
  toGraphDateTime,
  toMillis,
} from '../calendar/time';

const SCOPES = ['MailboxSettings.ReadWrite'];
const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;

function invalid(field: string, message: string): Problem {
  return new Problem('invalid_input', `${field} ${message}`, { errors: [{ field, message }] });
}

const outputZone = TimeZoneField.optional().describe(
  'IANA zone (e.g. Europe/Berlin) for the times in the output. Default: the request zone (X-Timezone), else UTC.',
);

const GraphSettings = z
  .object({
    timeZone: z.string().nullish(),
    automaticRepliesSetting: z
      .object({
        status: z.string().nullish(),
        externalAudience: z.string().nullish(),
        internalReplyMessage: z.string().nullish(),
        externalReplyMessage: z.string().nullish(),
        scheduledStartDateTime: z.object({ dateTime: z.string(), timeZone: z.string() }).nullish(),
        scheduledEndDateTime: z.object({ dateTime: z.string(), timeZone: z.string() }).nullish(),
      })
      .passthrough()
      .nullish(),
    workingHours: z
      .object({
        daysOfWeek: z.array(z.string()).nullish(),
        startTime: z.string().nullish(),
        endTime: z.string().nullish(),
        timeZone: z.object({ name: z.string().nullish() }).passthrough().nullish(),
      })
      .passthrough()
      .nullish(),
    language: z.object({ locale: z.string().nullish(), displayName: z.string().nullish() }).nullish(),
    dateFormat: z.string().nullish(),
    timeFormat: z.string().nullish(),
  })
  .passthrough();

const AutomaticRepliesOut = z.object({
  status: z
    .enum(['disabled', 'alwaysEnabled', 'scheduled'])
    .describe(
      'disabled (off), alwaysEnabled (on until turned off), or scheduled (on between start and end).',
    ),
  externalAudience: z
    .enum(['none', 'contactsOnly', 'all'])
    .describe('Who outside the organization gets the external message.'),
  internalMessage: z.string().describe('Sent to senders in the organization (HTML).'),
  externalMessage: z.string().describe('Sent to senders outside it, per externalAudience (HTML).'),
  start: TimeOutSchema.optional().describe('Scheduled: when the replies start.'),
  end: TimeOutSchema.optional().describe('Scheduled: when they stop.'),
});

const WorkingHoursOut = z.object({
  daysOfWeek: z.array(z.string()).describe('e.g. ["monday", ..., "friday"].'),
  startTime: z.string().nullable().describe('Local start of the working day, HH:mm.'),
  endTime: z.string().nullable().describe('Local end of the working day, HH:mm.'),
  timeZone: z.string().nullable().describe('The zone of the working hours as Outlook names it.'),
});

const SettingsOut = z.object({
  timeZone: z.string().nullable().describe('The mailbox time zone as Outlook names it (Windows or IANA).'),
  automaticReplies: AutomaticRepliesOut,
  workingHours: WorkingHoursOut,
  language: z.object({ locale: z.string().nullable(), displayName: z.string().nullable() }),
  dateFormat: z.string().nullable(),
  timeFormat: z.string().nullable(),
});

type GraphSettings = z.infer<typeof GraphSettings>;

function automaticRepliesOut(
  raw: GraphSettings['automaticRepliesSetting'],
  zone: string,
): z.infer<typeof AutomaticRepliesOut> {
  const status = raw?.status === 'alwaysEnabled' || raw?.status === 'scheduled' ? raw.status : 'disabled';
  const audience =
    raw?.externalAudience === 'none' || raw?.externalAudience === 'contactsOnly'
      ? raw.externalAudience
      : 'all';
  const start =
    status === 'scheduled' && raw?.scheduledStartDateTime
      ? timeOut(raw.scheduledStartDateTime, zone)
      : undefined;
  const end =
    status === 'scheduled' && raw?.scheduledEndDateTime ? timeOut(raw.scheduledEndDateTime, zone) : undefined;
  return {
    status,
    externalAudience: audience,
    internalMessage: raw?.internalReplyMessage ?? '',
    externalMessage: raw?.externalReplyMessage ?? '',
    ...(start ? { start } : {}),
    ...(end ? { end } : {}),
  };
}

/** Graph's TimeOfDay (08:00:00.0000000) as HH:mm. */
const hhmm = (v: string | null | undefined) => (v ? v.slice(0, 5) : null);

function workingHoursOut(raw: GraphSettings['workingHours']): z.infer<typeof WorkingHoursOut> {
  return {
    daysOfWeek: raw?.daysOfWeek ?? [],
    startTime: hhmm(raw?.startTime),
    endTime: hhmm(raw?.endTime),
    timeZone: raw?.timeZone?.name ?? null,
  };
}

function settingsOut(body: unknown, zone: string): z.infer<typeof SettingsOut> {
  const s = GraphSettings.parse(body);
  return {
    timeZone: s.timeZone ?? null,
    automaticReplies: automaticRepliesOut(s.automaticRepliesSetting, zone),
    workingHours: workingHoursOut(s.workingHours),
    language: { locale: s.language?.locale ?? null, displayName: s.language?.displayName ?? null },
    dateFormat: s.dateFormat ?? null,
    timeFormat: s.timeFormat ?? null,
  };
}

const zoneOf = (input: { timeZone?: string | undefined }, ctx: ActionContext) =>
  callerZone(input.timeZone, ctx.timezone);

// https://learn.microsoft.com/graph/api/user-get-mailboxsettings
defineAction({
  id: 'mailbox.getSettings',
  service: 'mailbox',
  summary: "Get the user's mailbox settings, out of office included",
  description:
    'Returns the mailbox settings: automatic replies (out of office: status, messages, audience, schedule), working hours, time zone, language, date and time formats. Use it to answer "is my out-of-office on?" or before changing a setting. Times are in timeZone (default the request zone) with UTC.',
  input: z.object({ timeZone: outputZone }).strict(),
  output: SettingsOut,
  feature: 'mailbox-settings',
  scopes: SCOPES,
  kind: 'read',
  idempotent: true,
  toGraph: () => ({ method: 'GET', url: '/me/mailboxSettings' }),
  fromGraph: (res, input, ctx) => settingsOut(res.body, zoneOf(input, ctx)),
});

const automaticRepliesInput = z
  .object({
    status: z
      .enum(['disabled', 'alwaysEnabled', 'scheduled'])
      .describe(
        'disabled turns replies off; alwaysEnabled turns them on until turned off; scheduled turns them on between start and end.',
      ),
    start: DateTimeInput.optional().describe(
      'With scheduled: when replies start (an instant with offset, or {dateTime, timeZone}, or {date} for midnight in timeZone).',
    ),
    end: DateTimeInput.optional().describe('With scheduled: when they stop (after start).'),
    internalMessage: z
      .string()
      .max(128 * 1024)
      .optional()
      .describe('The reply to senders in the organization (HTML or plain text). Unchanged when omitted.'),
    externalMessage: z
      .string()
      .max(128 * 1024)
      .optional()
      .describe('The reply to senders outside it. Unchanged when omitted.'),
    externalAudience: z
      .enum(['none', 'contactsOnly', 'all'])
      .optional()
      .describe(
        'Who outside the organization gets externalMessage: none, contactsOnly (senders in the user contacts), or all. Unchanged when omitted.',
      ),
    timeZone: TimeZoneField.optional().describe(
      'The zone of {date} and {dateTime} inputs without their own, and of the output times. Default: the request zone, else UTC.',
    ),
  })
  .strict();

// https://learn.microsoft.com/graph/api/user-update-mailboxsettings (automaticRepliesSetting)
defineAction({
  id: 'mailbox.setAutomaticReplies',
  service: 'mailbox',
  summary: 'Turn out-of-office automatic replies on, off, or on a schedule',
  description:
    'Sets automatic replies (out of office). "Out of office until Monday" is status scheduled with start now and end Monday 00:00 in the user zone; status disabled turns them off. Exchange replies once per sender while they are on, with internalMessage to colleagues and externalMessage to outside senders per externalAudience. Returns the automatic replies as now set.',
  input: automaticRepliesInput,
  output: AutomaticRepliesOut,
  feature: 'mailbox-settings',
  scopes: SCOPES,
  kind: 'write',
  idempotent: true,
  invalidates: ['mailboxSettings'],
  toGraph: (input, ctx) => {
    const zone = zoneOf(input, ctx);
    const setting: Record<string, unknown> = { status: input.status };
    if (input.status === 'scheduled') {
      if (!input.start) throw invalid('start', 'is required when status is scheduled');
      if (!input.end) throw invalid('end', 'is required when status is scheduled');
      if (toMillis(input.end, 'end', zone) <= toMillis(input.start, 'start', zone))
        throw invalid('end', 'must be after start');
      setting.scheduledStartDateTime = toGraphDateTime(input.start, 'start', zone);
      setting.scheduledEndDateTime = toGraphDateTime(input.end, 'end', zone);
    } else if (input.start || input.end) {
      throw invalid(input.start ? 'start' : 'end', 'is only for status scheduled');
    }
    if (input.internalMessage !== undefined) setting.internalReplyMessage = input.internalMessage;
    if (input.externalMessage !== undefined) setting.externalReplyMessage = input.externalMessage;
    if (input.externalAudience !== undefined) setting.externalAudience = input.externalAudience;
    return { method: 'PATCH', url: '/me/mailboxSettings', body: { automaticRepliesSetting: setting } };
  },
  fromGraph: (res, input, ctx) =>
    automaticRepliesOut(GraphSettings.parse(res.body).automaticRepliesSetting, zoneOf(input, ctx)),
});

const workingHoursInput = z
  .object({
    daysOfWeek: z
      .array(z.enum(DAYS))
      .min(1)
      .max(7)
      .describe('The working days, e.g. ["monday", "tuesday", "wednesday", "thursday", "friday"].'),
    startTime: z
      .string()
      .regex(HH_MM, 'must be HH:mm, e.g. 08:30')
      .describe('Local start of the working day, HH:mm.'),
    endTime: z
      .string()
      .regex(HH_MM, 'must be HH:mm, e.g. 17:00')
      .describe('Local end of the working day, HH:mm (after startTime).'),
    timeZone: TimeZoneField.optional().describe(
      'The zone of the working hours (IANA or Windows). Default: the mailbox time zone as it is.',
    ),
  })
  .strict();

// https://learn.microsoft.com/graph/api/user-update-mailboxsettings (workingHours)
defineAction({
  id: 'mailbox.setWorkingHours',
  service: 'mailbox',
  summary: 'Set the working days and hours',
  description:
    'Sets the working hours Outlook and scheduling assistants use (free/busy suggestions, meeting times): days, start and end time, and optionally their zone. Returns the working hours as now set.',
  input: workingHoursInput,
  output: WorkingHoursOut,
  feature: 'mailbox-settings',
  scopes: SCOPES,
  kind: 'write',
  idempotent: true,
  invalidates: ['mailboxSettings'],
  toGraph: (input) => {
    if (input.endTime <= input.startTime) throw invalid('endTime', 'must be after startTime');
    const workingHours: Record<string, unknown> = {
      daysOfWeek: [...new Set(input.daysOfWeek)],
      startTime: `${input.startTime}:00.0000000`,
      endTime: `${input.endTime}:00.0000000`,
    };
    if (input.timeZone) workingHours.timeZone = { name: graphZoneName(ianaZone(input.timeZone) ?? 'UTC') };
    return { method: 'PATCH', url: '/me/mailboxSettings', body: { workingHours } };
  },
  fromGraph: (res) => workingHoursOut(GraphSettings.parse(res.body).workingHours),
});

const updateSettingsInput = z
  .object({
    timeZone: TimeZoneField.optional().describe(
      'The mailbox time zone (IANA or Windows name), e.g. Europe/Berlin.',
    ),
    language: z
      .string()
      .regex(/^[a-z]{2,3}-[A-Z]{2}$/, 'must be a locale such as en-US or de-DE')
      .optional()
      .describe('The mailbox language as a locale, e.g. en-US or de-DE.'),
    dateFormat: z
      .string()
      .max(32)
      .optional()
      .describe('Short date format, e.g. M/d/yyyy, dd.MM.yyyy or yyyy-MM-dd.'),
    timeFormat: z
      .string()
      .max(16)
      .optional()
      .describe('Time format, e.g. h:mm tt (12-hour) or HH:mm (24-hour).'),
  })
  .strict();

// https://learn.microsoft.com/graph/api/user-update-mailboxsettings
defineAction({
  id: 'mailbox.updateSettings',
  service: 'mailbox',
  summary: 'Change the mailbox time zone, language or formats',
  description:
    'Changes the mailbox time zone, language, date format or time format (only those given). The time zone is also the zone of the working hours. Returns the whole settings as now set.',
  input: updateSettingsInput,
  output: SettingsOut,
  feature: 'mailbox-settings',
  scopes: SCOPES,
  kind: 'write',
  idempotent: true,
  invalidates: ['mailboxSettings'],
  run: async (input, ctx) => {
    const body: Record<string, unknown> = {};
    if (input.timeZone !== undefined) body.timeZone = graphZoneName(ianaZone(input.timeZone) ?? 'UTC');
    if (input.language !== undefined) body.language = { locale: input.language };
    if (input.dateFormat !== undefined) body.dateFormat = input.dateFormat;
    if (input.timeFormat !== undefined) body.timeFormat = input.timeFormat;
    if (Object.keys(body).length === 0) {
      throw invalid('timeZone', 'or language, dateFormat or timeFormat: give at least one setting to change');
    }
    await ctx.graph({ method: 'PATCH', url: '/me/mailboxSettings', body });
    const now = await ctx.graph({ method: 'GET', url: '/me/mailboxSettings' });
    return settingsOut(now.body, callerZone(undefined, ctx.timezone));
  },
});
