/**
 * Teams meetings (https://learn.microsoft.com/graph/api/resources/onlinemeeting): create a
 * standalone meeting, find one by id or join URL, and read what a meeting left behind:
 * transcripts (as text with speakers and times, transcript.ts), recordings (streamed) and the
 * attendance report. Transcripts and recordings exist only for meetings behind a calendar event
 * (calltranscript-get.md): create those with calendar.createEvent and teamsMeeting.
 */
import { z } from 'zod';
import { untrusted } from '../../actions/output';
import { defineAction } from '../../actions/registry';
import { RawResult, type ActionContext } from '../../actions/types';
import { seg } from '../../graph/client';
import type { GraphError } from '../../graph/errors';
import { odataString } from '../../graph/odata';
import { Problem } from '../../http/problem';
import { parseVtt, transcriptText } from './transcript';

const MEETINGS = ['OnlineMeetings.ReadWrite'];
const TRANSCRIPTS = ['OnlineMeetingTranscript.Read.All'];
const RECORDINGS = ['OnlineMeetingRecording.Read.All'];
const ATTENDANCE = ['OnlineMeetingArtifact.Read.All'];

const meetingId = z
  .string()
  .min(1)
  .max(1000)
  .describe('The online meeting id (from meetings.create or meetings.get).');
const instant = z.iso.datetime({ offset: true });
const email = z.email().max(320);

const meetingPath = (id: string) => `/me/onlineMeetings/${seg(id)}`;

const GraphMeeting = z
  .object({
    id: z.string(),
    subject: z.string().nullable().optional(),
    startDateTime: z.string().nullable().optional(),
    endDateTime: z.string().nullable().optional(),
    joinWebUrl: z.string().nullable().optional(),
    joinMeetingIdSettings: z
      .object({ joinMeetingId: z.string().nullable(), passcode: z.string().nullable() })
      .partial()
      .nullable()
      .optional(),
    participants: z
      .object({
        organizer: z.object({ upn: z.string().nullable() }).partial().nullable(),
        attendees: z.array(z.object({ upn: z.string().nullable() }).partial()).nullable(),
      })
      .partial()
      .nullable()
      .optional(),
  })
  .passthrough();

const MeetingOut = z.object({
  id: z.string(),
  subject: untrusted(z.string().nullable(), 'event'),
  start: z.string().nullable(),
  end: z.string().nullable(),
  joinUrl: z.string().nullable(),
  joinMeetingId: z.string().nullable(),
  passcode: z.string().nullable(),
  organizer: z.string().nullable(),
  attendees: z.array(z.string()),
});

function toMeeting(raw: unknown): z.infer<typeof MeetingOut> {
  const m = GraphMeeting.parse(raw);
  return {
    id: m.id,
    subject: m.subject ?? null,
    start: m.startDateTime ?? null,
    end: m.endDateTime ?? null,
    joinUrl: m.joinWebUrl ?? null,
    joinMeetingId: m.joinMeetingIdSettings?.joinMeetingId ?? null,
    passcode: m.joinMeetingIdSettings?.passcode ?? null,
    organizer: m.participants?.organizer?.upn ?? null,
    attendees: (m.participants?.attendees ?? []).map((a) => a.upn).filter((u): u is string => !!u),
  };
}

/** Missing permissions for transcripts and recordings are an admin's business: say so. */
function meetingsError(err: GraphError): Problem | undefined {
  if (err.status === 403 && /SpeakerAttributionNotAllowed/i.test(`${err.code} ${err.message}`)) {
    return new Problem(
      'forbidden',
      'The tenant turned off speaker attribution in transcripts: ask an admin, or read it without speakers.',
      { graphCode: err.code },
    );
  }
  return undefined;
}

// https://learn.microsoft.com/graph/api/application-post-onlinemeetings
defineAction({
  id: 'meetings.create',
  service: 'meetings',
  summary: 'Create a standalone Teams meeting (join link)',
  description:
    'Creates a Teams online meeting that is not on a calendar: a join link, a meeting id and passcode to share. Returns {id, subject, start, end, joinUrl, joinMeetingId, passcode, organizer, attendees}. For a meeting that invites people on their calendars (and whose transcript and recording can be read later), use calendar.createEvent with teamsMeeting: true instead.',
  input: z
    .object({
      subject: z.string().trim().min(1).max(255).describe('The meeting title.'),
      start: instant.describe('Start, ISO 8601 with offset.'),
      end: instant.describe('End, ISO 8601 with offset (after start).'),
      attendees: z
        .array(email)
        .max(100)
        .optional()
        .describe('Email addresses of people in the organization.'),
    })
    .strict()
    .refine((v) => Date.parse(v.end) > Date.parse(v.start), {
      message: 'end must be after start',
      path: ['end'],
    }),
  output: MeetingOut,
  feature: 'meetings',
  scopes: MEETINGS,
  kind: 'write',
  idempotent: false,
  idempotencyKey: true,
  successStatus: 201,
  toGraph: (input) => ({
    method: 'POST',
    url: '/me/onlineMeetings',
    body: {
      subject: input.subject,
      startDateTime: new Date(input.start).toISOString(),
      endDateTime: new Date(input.end).toISOString(),
      ...(input.attendees ? { participants: { attendees: input.attendees.map((upn) => ({ upn })) } } : {}),
    },
  }),
  fromGraph: (res, _input, ctx) => {
    const meeting = toMeeting(res.body);
    ctx.targets.push(meeting.id);
    return meeting;
  },
});

// https://learn.microsoft.com/graph/api/onlinemeeting-get
defineAction({
  id: 'meetings.get',
  service: 'meetings',
  summary: 'Get a Teams meeting by id or join URL',
  description:
    'Returns an online meeting {id, subject, start, end, joinUrl, joinMeetingId, organizer, attendees} by its id or by its join URL (the Teams link of an event: calendar events show it as onlineMeetingUrl). Use the id with meetings.listTranscripts, meetings.getTranscript, meetings.listRecordings and meetings.getAttendance.',
  input: z
    .object({
      meetingId: meetingId.optional(),
      joinUrl: z
        .url()
        .max(4096)
        .optional()
        .describe('The Teams join link (https://teams.microsoft.com/l/meetup-join/...).'),
    })
    .strict()
    .refine((v) => (v.meetingId === undefined) !== (v.joinUrl === undefined), {
      message: 'Give exactly one of meetingId or joinUrl.',
      path: ['meetingId'],
    }),
  output: MeetingOut,
  feature: 'meetings',
  scopes: MEETINGS,
  kind: 'read',
  idempotent: true,
  run: async (input, ctx) => {
    if (input.meetingId) {
      ctx.targets.push(input.meetingId);
      return toMeeting((await ctx.graph({ method: 'GET', url: meetingPath(input.meetingId) })).body);
    }
    const res = await ctx.graph({
      method: 'GET',
      url: '/me/onlineMeetings',
      query: { $filter: `JoinWebUrl eq ${odataString(input.joinUrl!)}` },
    });
    const found = ((res.body as { value?: unknown[] }).value ?? [])[0];
    if (!found) throw new Problem('not_found', 'No meeting of the user has this join URL.');
    const meeting = toMeeting(found);
    ctx.targets.push(meeting.id);
    return meeting;
  },
});

const GraphArtifact = z
  .object({
    id: z.string(),
    createdDateTime: z.string().nullable().optional(),
    endDateTime: z.string().nullable().optional(),
  })
  .passthrough();
const ArtifactOut = z.object({
  id: z.string(),
  createdAt: z.string().nullable(),
  endedAt: z.string().nullable(),
});
const toArtifact = (raw: unknown) => {
  const a = GraphArtifact.parse(raw);
  return { id: a.id, createdAt: a.createdDateTime ?? null, endedAt: a.endDateTime ?? null };
};

async function artifacts(ctx: ActionContext, id: string, kind: 'transcripts' | 'recordings') {
  ctx.targets.push(id);
  const res = await ctx.graph({ method: 'GET', url: `${meetingPath(id)}/${kind}` });
  return ((res.body as { value?: unknown[] }).value ?? []).map(toArtifact);
}

// https://learn.microsoft.com/graph/api/onlinemeeting-list-transcripts
defineAction({
  id: 'meetings.listTranscripts',
  service: 'meetings',
  summary: "List a meeting's transcripts",
  description:
    'Lists the transcripts of a meeting {id, createdAt, endedAt}, oldest first. Only meetings on a calendar (Teams events) have them, once someone transcribed the meeting.',
  input: z.object({ meetingId }).strict(),
  output: z.object({ items: z.array(ArtifactOut) }),
  feature: 'meetings-content',
  scopes: TRANSCRIPTS,
  kind: 'read',
  idempotent: true,
  run: async (input, ctx) => ({ items: await artifacts(ctx, input.meetingId, 'transcripts') }),
  mapError: meetingsError,
});

const CueOut = z.object({
  start: z.number().describe('Seconds from the start of the meeting.'),
  end: z.number(),
  speaker: untrusted(z.string().nullable(), 'teams'),
  text: untrusted(z.string(), 'teams'),
});

// https://learn.microsoft.com/graph/api/calltranscript-get (content, text/vtt)
defineAction({
  id: 'meetings.getTranscript',
  service: 'meetings',
  summary: "Read a meeting's transcript: who said what, when",
  description:
    'Returns a meeting transcript (the latest unless transcriptId is given) as text, one line per utterance: "[hh:mm:ss] Speaker: words", plus the same as cues {start, end (seconds from the start), speaker, text} and the raw WebVTT if asked. Use it to answer "what did we decide in the meeting".',
  input: z
    .object({
      meetingId,
      transcriptId: z
        .string()
        .min(1)
        .max(1000)
        .optional()
        .describe('A transcript id from meetings.listTranscripts (default: the latest).'),
      includeVtt: z.boolean().optional().describe('Also return the WebVTT as Teams wrote it.'),
    })
    .strict(),
  output: z.object({
    meetingId: z.string(),
    transcriptId: z.string(),
    text: untrusted(z.string(), 'teams'),
    cues: z.array(CueOut),
    speakers: untrusted(z.array(z.string()), 'teams'),
    vtt: untrusted(z.string(), 'teams').optional(),
  }),
  feature: 'meetings-content',
  scopes: TRANSCRIPTS,
  kind: 'read',
  idempotent: true,
  run: async (input, ctx) => {
    let transcriptId = input.transcriptId;
    if (!transcriptId) {
      const all = await artifacts(ctx, input.meetingId, 'transcripts');
      const latest = all.at(-1);
      if (!latest)
        throw new Problem(
          'not_found',
          'The meeting has no transcript (it was not transcribed, or is not on a calendar).',
        );
      transcriptId = latest.id;
    } else ctx.targets.push(input.meetingId);
    const res = await ctx.graphRaw({
      method: 'GET',
      url: `${meetingPath(input.meetingId)}/transcripts/${seg(transcriptId)}/content`,
      query: { $format: 'text/vtt' },
    });
    const vtt = await new Response(res.body).text();
    const cues = parseVtt(vtt);
    return {
      meetingId: input.meetingId,
      transcriptId,
      text: transcriptText(cues),
      cues,
      speakers: [...new Set(cues.map((c) => c.speaker).filter((s): s is string => !!s))],
      ...(input.includeVtt ? { vtt } : {}),
    };
  },
  mapError: meetingsError,
});

// https://learn.microsoft.com/graph/api/onlinemeeting-list-recordings
defineAction({
  id: 'meetings.listRecordings',
  service: 'meetings',
  summary: "List a meeting's recordings",
  description:
    'Lists the recordings of a meeting {id, createdAt, endedAt}. Download one with meetings.downloadRecording.',
  input: z.object({ meetingId }).strict(),
  output: z.object({ items: z.array(ArtifactOut) }),
  feature: 'meetings-content',
  scopes: RECORDINGS,
  kind: 'read',
  idempotent: true,
  run: async (input, ctx) => ({ items: await artifacts(ctx, input.meetingId, 'recordings') }),
  mapError: meetingsError,
});

// https://learn.microsoft.com/graph/api/callrecording-get (content)
defineAction({
  id: 'meetings.downloadRecording',
  service: 'meetings',
  summary: 'Download a meeting recording (streamed)',
  description:
    'Streams a meeting recording (video/mp4) as the HTTP response body; any size, nothing buffered. Recording ids come from meetings.listRecordings.',
  input: z
    .object({
      meetingId,
      recordingId: z.string().min(1).max(1000).describe('The recording id (from meetings.listRecordings).'),
    })
    .strict(),
  feature: 'meetings-content',
  scopes: RECORDINGS,
  kind: 'read',
  idempotent: true,
  httpMethod: 'GET',
  run: async (input, ctx) => {
    ctx.targets.push(input.meetingId);
    const res = await ctx.graphRaw({
      method: 'GET',
      url: `${meetingPath(input.meetingId)}/recordings/${seg(input.recordingId)}/content`,
    });
    const headers: Record<string, string> = { 'cache-control': 'no-store' };
    for (const name of ['content-type', 'content-length']) {
      const value = res.headers.get(name);
      if (value) headers[name] = value;
    }
    return new RawResult({ status: res.status, headers, body: res.body ?? undefined });
  },
  mapError: meetingsError,
});

const GraphRecord = z
  .object({
    emailAddress: z.string().nullable().optional(),
    role: z.string().nullable().optional(),
    totalAttendanceInSeconds: z.number().nullable().optional(),
    identity: z.object({ displayName: z.string().nullable() }).partial().nullable().optional(),
    attendanceIntervals: z
      .array(
        z
          .object({ joinDateTime: z.string(), leaveDateTime: z.string(), durationInSeconds: z.number() })
          .partial(),
      )
      .nullable()
      .optional(),
  })
  .passthrough();

const AttendeeOut = z.object({
  name: untrusted(z.string().nullable(), 'teams'),
  email: z.string().nullable(),
  role: z.string().nullable(),
  totalSeconds: z.number(),
  intervals: z.array(
    z.object({ joined: z.string().nullable(), left: z.string().nullable(), seconds: z.number() }),
  ),
});

// https://learn.microsoft.com/graph/api/meetingattendancereport-list, meetingattendancereport-get
defineAction({
  id: 'meetings.getAttendance',
  service: 'meetings',
  summary: 'Who attended a meeting, and for how long',
  description:
    'Returns the attendance report of a meeting (the latest session unless reportId is given): start and end, and each attendee {name, email, role, totalSeconds, intervals [{joined, left, seconds}]}, longest first.',
  input: z
    .object({
      meetingId,
      reportId: z.string().min(1).max(1000).optional().describe('A report id (default: the latest).'),
    })
    .strict(),
  output: z.object({
    reportId: z.string(),
    start: z.string().nullable(),
    end: z.string().nullable(),
    participants: z.number(),
    attendees: z.array(AttendeeOut),
  }),
  feature: 'meetings-content',
  scopes: ATTENDANCE,
  kind: 'read',
  idempotent: true,
  run: async (input, ctx) => {
    ctx.targets.push(input.meetingId);
    const base = `${meetingPath(input.meetingId)}/attendanceReports`;
    let reportId = input.reportId;
    if (!reportId) {
      const list =
        ((await ctx.graph({ method: 'GET', url: base })).body as { value?: Array<{ id?: string }> }).value ??
        [];
      reportId = list.at(-1)?.id;
      if (!reportId)
        throw new Problem('not_found', 'The meeting has no attendance report yet (it has not taken place).');
    }
    const report = (
      await ctx.graph({
        method: 'GET',
        url: `${base}/${seg(reportId)}`,
        query: { $expand: 'attendanceRecords' },
      })
    ).body as Record<string, unknown>;
    const records = ((report.attendanceRecords as unknown[] | undefined) ?? []).map((r) =>
      GraphRecord.parse(r),
    );
    const attendees = records
      .map((r) => ({
        name: r.identity?.displayName ?? null,
        email: r.emailAddress ?? null,
        role: r.role ?? null,
        totalSeconds: r.totalAttendanceInSeconds ?? 0,
        intervals: (r.attendanceIntervals ?? []).map((i) => ({
          joined: i.joinDateTime ?? null,
          left: i.leaveDateTime ?? null,
          seconds: i.durationInSeconds ?? 0,
        })),
      }))
      .sort((a, b) => b.totalSeconds - a.totalSeconds);
    return {
      reportId,
      start: typeof report.meetingStartDateTime === 'string' ? report.meetingStartDateTime : null,
      end: typeof report.meetingEndDateTime === 'string' ? report.meetingEndDateTime : null,
      participants:
        typeof report.totalParticipantCount === 'number' ? report.totalParticipantCount : attendees.length,
      attendees,
    };
  },
  mapError: meetingsError,
});
