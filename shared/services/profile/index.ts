/**
 * Profile actions: who the connected user is and their mailbox settings (time zone, working
 * hours). Slowly changing, so cached per user.
 */
import { z } from 'zod';
import { defineAction } from '../../actions/registry';

const Me = z
  .object({
    id: z.string(),
    displayName: z.string().nullable().optional(),
    userPrincipalName: z.string().optional(),
    mail: z.string().nullable().optional(),
    jobTitle: z.string().nullable().optional(),
  })
  .passthrough();

// https://learn.microsoft.com/graph/api/user-get
defineAction({
  id: 'profile.getMe',
  service: 'profile',
  summary: "Get the connected user's Microsoft 365 profile",
  description:
    'Returns the connected Microsoft 365 account: id, display name, user principal name, email address and job title. Use it to know who the user is in Microsoft 365 (e.g. to address mail "from" them). Cached for a few minutes.',
  input: z.object({}).strict(),
  output: z.object({
    id: z.string().describe('The Microsoft 365 user id.'),
    displayName: z.string().nullable(),
    userPrincipalName: z.string().nullable().describe('The sign-in name, e.g. adele@contoso.com.'),
    mail: z.string().nullable().describe('The primary email address.'),
    jobTitle: z.string().nullable(),
  }),
  feature: 'base',
  scopes: ['User.Read'],
  kind: 'read',
  idempotent: true,
  cache: { tag: 'profile' },
  toGraph: () => ({
    method: 'GET',
    url: '/me',
    query: { $select: 'id,displayName,userPrincipalName,mail,jobTitle' },
  }),
  fromGraph: (res) => {
    const me = Me.parse(res.body);
    return {
      id: me.id,
      displayName: me.displayName ?? null,
      userPrincipalName: me.userPrincipalName ?? null,
      mail: me.mail ?? null,
      jobTitle: me.jobTitle ?? null,
    };
  },
});

const Settings = z
  .object({
    timeZone: z.string().optional(),
    workingHours: z
      .object({
        daysOfWeek: z.array(z.string()).optional(),
        startTime: z.string().optional(),
        endTime: z.string().optional(),
        timeZone: z.object({ name: z.string() }).partial().optional(),
      })
      .partial()
      .optional(),
  })
  .passthrough();

// https://learn.microsoft.com/graph/api/user-get-mailboxsettings
defineAction({
  id: 'profile.getMailboxSettings',
  service: 'profile',
  summary: "Get the user's mailbox time zone and working hours",
  description:
    "Returns the mailbox time zone (as Outlook reports it, Windows or IANA name) and working hours (days, start, end, zone). Use it before scheduling to respect the user's working day. Cached for a few minutes.",
  input: z.object({}).strict(),
  output: z.object({
    timeZone: z
      .string()
      .nullable()
      .describe('The mailbox time zone as Outlook reports it (Windows or IANA name).'),
    workingHours: z.object({
      daysOfWeek: z.array(z.string()).describe('e.g. ["monday", ..., "friday"].'),
      startTime: z.string().nullable().describe('Local start of the working day, e.g. 08:00:00.0000000.'),
      endTime: z.string().nullable(),
      timeZone: z.string().nullable().describe('The zone the working hours are in.'),
    }),
  }),
  feature: 'calendar',
  scopes: ['MailboxSettings.Read'],
  kind: 'read',
  idempotent: true,
  cache: { tag: 'mailboxSettings' },
  toGraph: () => ({ method: 'GET', url: '/me/mailboxSettings' }),
  fromGraph: (res) => {
    const s = Settings.parse(res.body);
    return {
      timeZone: s.timeZone ?? null,
      workingHours: {
        daysOfWeek: s.workingHours?.daysOfWeek ?? [],
        startTime: s.workingHours?.startTime ?? null,
        endTime: s.workingHours?.endTime ?? null,
        timeZone: s.workingHours?.timeZone?.name ?? null,
      },
    };
  },
});
