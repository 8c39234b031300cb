/**
 * Graph online meetings and their artifacts (https://learn.microsoft.com/graph/api/resources/onlinemeeting):
 * - `POST /me/onlineMeetings` (onlinemeeting-create.md: subject, startDateTime, endDateTime,
 *   participants), get, update, delete; list only with `$filter=JoinWebUrl eq '...'` or
 *   `joinMeetingIdSettings/joinMeetingId eq '...'` (onlinemeeting-get.md: there is no unfiltered list);
 * - transcripts (calltranscript-list.md, calltranscript-get.md): `/content` is WebVTT with
 *   `<v Speaker>` voice tags by default (`$format=text/vtt` or `Accept: text/vtt`), or without
 *   speakers for `Accept: application/vnd.microsoft.graph.transcript+text`;
 * - recordings (callrecording-list.md): metadata and the `/content` stream (video/mp4);
 * - attendance reports with attendance records (meetingattendancereport-list.md,
 *   attendancerecord-list.md; `$expand=attendanceRecords` on a report).
 * Artifacts exist once a meeting has happened: tests add them through the control API
 * (`POST /_sandbox/meetings/{user}/{meetingId}/transcripts|recordings|attendance`).
 * Permissions (delegated, work accounts): OnlineMeetings.Read(Write) for meetings,
 * OnlineMeetingTranscript.Read.All, OnlineMeetingRecording.Read.All, and
 * OnlineMeetingArtifact.Read.All for attendance reports.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Sandbox } from '../../context';
import { empty, json, text } from '../../http';
import { entityResponse, graphRoute, graphState, type GraphCtx } from '../core';
import { badRequest, GraphHttpError, notFound } from '../errors';
import { eventsRef } from '../calendar/events';
import { parseDateTimeTimeZone } from '../calendar/time';
import { parseFilter } from '../odata';
import type { ChangeStore, CollectionRef, Entity } from '../store';

export const ONLINE_MEETINGS = 'onlineMeetings';

const MEETINGS_READ = {
  anyOf: ['OnlineMeetings.Read'],
  app: ['OnlineMeetings.Read.All', 'OnlineMeetings.ReadWrite.All'],
};
const MEETINGS_WRITE = { anyOf: ['OnlineMeetings.ReadWrite'], app: ['OnlineMeetings.ReadWrite.All'] };
const TRANSCRIPTS = {
  anyOf: ['OnlineMeetingTranscript.Read.All'],
  app: ['OnlineMeetingTranscript.Read.All'],
};
const RECORDINGS = { anyOf: ['OnlineMeetingRecording.Read.All'], app: ['OnlineMeetingRecording.Read.All'] };
const ATTENDANCE = { anyOf: ['OnlineMeetingArtifact.Read.All'], app: ['OnlineMeetingArtifact.Read.All'] };

export interface TranscriptLine {
  speaker: string;
  /** Offsets from the meeting start, in seconds. */
  start: number;
  end: number;
  text: string;
}

interface Transcript {
  id: string;
  createdDateTime: string;
  endDateTime: string;
  lines: TranscriptLine[];
}

interface Recording {
  id: string;
  createdDateTime: string;
  endDateTime: string;
  size: number;
}

interface AttendanceRecord {
  id: string;
  emailAddress: string;
  displayName: string;
  userId: string | null;
  role: string;
  intervals: Array<{ joinDateTime: string; leaveDateTime: string }>;
}

interface AttendanceReport {
  id: string;
  meetingStartDateTime: string;
  meetingEndDateTime: string;
  records: AttendanceRecord[];
}

function meetingsRef(store: ChangeStore, userId: string): CollectionRef {
  return store.collection(userId, ONLINE_MEETINGS, { etag: 'none' });
}

const opts = (scopes: { anyOf: string[]; app: string[] }) => ({
  scopes,
  workload: 'teams' as const,
  throttle: 'none' as const,
  delegatedOnly: false,
  otherUsers: 'deny' as const,
});

/** Meeting ids are opaque base64 strings in Graph (MSp... for a user's meeting). */
function meetingId(userId: string): string {
  return Buffer.from(`1*${userId}*0**19:meeting_${randomBytes(24).toString('base64url')}@thread.v2`).toString(
    'base64url',
  );
}

/** onlineMeeting as Graph returns it (artifacts are their own routes). */
function renderMeeting(meeting: Entity): Record<string, unknown> {
  const {
    transcripts: _t,
    recordings: _r,
    attendance: _a,
    standalone: _s,
    eventId: _e,
    createdDateTime: _c,
    lastModifiedDateTime: _l,
    ...rest
  } = meeting;
  return rest;
}

function findMeeting(ctx: GraphCtx): { ref: CollectionRef; meeting: Entity } {
  const ref = meetingsRef(ctx.graph.store, ctx.user!.id);
  const meeting = ctx.graph.store.get(ref, ctx.params.meetingId!);
  // onlinemeeting-get.md: an unknown or foreign meeting id answers 404.
  if (!meeting) throw notFound('teams', 'The specified meeting was not found.');
  return { ref, meeting };
}

function isoDate(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
    throw badRequest('teams', `${field} must be an ISO 8601 date and time.`);
  }
  return new Date(value).toISOString();
}

function participantOf(sandbox: Sandbox, raw: unknown, role: string): Record<string, unknown> {
  const p = (raw ?? {}) as { upn?: unknown; identity?: { user?: { id?: unknown } } };
  const id = typeof p.identity?.user?.id === 'string' ? p.identity.user.id : undefined;
  const user =
    (typeof p.upn === 'string' ? sandbox.directory.findUser(p.upn) : undefined) ??
    (id ? sandbox.directory.findUser(id) : undefined);
  if (!user)
    throw badRequest('teams', 'A participant needs the upn or identity.user.id of a user in the tenant.');
  return {
    upn: user.userPrincipalName,
    role,
    identity: { user: { id: user.id, displayName: user.displayName, tenantId: user.tenantId } },
  };
}

const roleOf = (a: unknown): string => {
  const role = (a as { role?: unknown }).role;
  return typeof role === 'string' ? role : 'attendee';
};

/** onlinemeeting-create.md: the body's subject, times and participants; the rest is generated. */
function newMeeting(ctx: GraphCtx, body: Record<string, unknown>): Record<string, unknown> {
  const caller = ctx.user!;
  const now = ctx.sandbox.now();
  const start = isoDate(body.startDateTime, 'startDateTime') ?? new Date(now).toISOString();
  const end =
    isoDate(body.endDateTime, 'endDateTime') ?? new Date(Date.parse(start) + 3600_000).toISOString();
  if (Date.parse(end) < Date.parse(start))
    throw badRequest('teams', 'endDateTime must not be before startDateTime.');
  if (body.subject !== undefined && typeof body.subject !== 'string')
    throw badRequest('teams', 'subject must be text.');
  const participants = (body.participants ?? {}) as { attendees?: unknown };
  if (participants.attendees !== undefined && !Array.isArray(participants.attendees)) {
    throw badRequest('teams', 'participants.attendees must be an array.');
  }
  const id = meetingId(caller.id);
  const thread = `19:meeting_${createHash('sha256').update(id).digest('base64url').slice(0, 40)}@thread.v2`;
  const context = encodeURIComponent(JSON.stringify({ Tid: caller.tenantId, Oid: caller.id }));
  const joinMeetingId = String(
    parseInt(createHash('sha256').update(id).digest('hex').slice(0, 12), 16),
  ).slice(0, 12);
  return {
    id,
    subject: typeof body.subject === 'string' ? body.subject : null,
    creationDateTime: new Date(now).toISOString(),
    startDateTime: start,
    endDateTime: end,
    externalId: typeof body.externalId === 'string' ? body.externalId : null,
    joinWebUrl: `https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(thread)}/0?context=${context}`,
    joinMeetingIdSettings: {
      isPasscodeRequired: true,
      joinMeetingId,
      passcode: randomBytes(4).toString('base64url').replace(/[-_]/g, 'x'),
    },
    chatInfo: { threadId: thread, messageId: '0', replyChainMessageId: null },
    participants: {
      organizer: participantOf(ctx.sandbox, { upn: caller.userPrincipalName }, 'presenter'),
      attendees: ((participants.attendees as unknown[]) ?? []).map((a) =>
        participantOf(ctx.sandbox, a, roleOf(a)),
      ),
    },
    allowedPresenters: 'everyone',
    allowMeetingChat: 'enabled',
    allowTeamworkReactions: true,
    allowRecording: true,
    allowTranscription: true,
    isEntryExitAnnounced: false,
    recordAutomatically: false,
    lobbyBypassSettings: { scope: 'organization', isDialInBypassEnabled: false },
    transcripts: [],
    recordings: [],
    attendance: [],
    // Made by POST /me/onlineMeetings, not behind a calendar event (see meetingOfEvent).
    standalone: true,
  };
}

/**
 * The onlineMeeting behind a Teams event the user organizes, found by the event's join URL and
 * kept from then on. Graph keeps transcripts and recordings only for meetings that are on a
 * calendar: "This API doesn't support meetings created using the create onlineMeeting API that
 * aren't associated with an event on the user's calendar" (calltranscript-get.md, callrecording-get.md).
 */
function meetingOfEvent(ctx: GraphCtx, joinUrl: string): Entity | undefined {
  const store = ctx.graph.store;
  const user = ctx.user!;
  const event = store
    .list(eventsRef(store, user.id))
    .find(
      (e) =>
        (e.responseStatus as { response?: string } | undefined)?.response === 'organizer' &&
        sameUrl((e.onlineMeeting as { joinUrl?: string } | null | undefined)?.joinUrl, joinUrl),
    );
  if (!event) return undefined;
  const start = parseDateTimeTimeZone(event.start, 'start').ms;
  const end = parseDateTimeTimeZone(event.end, 'end').ms;
  const attendees = ((event.attendees as Array<{ emailAddress?: { address?: string } }> | undefined) ?? [])
    .map((a) => a.emailAddress?.address)
    .filter((a): a is string => typeof a === 'string' && ctx.sandbox.directory.findUser(a) !== undefined)
    .map((upn) => ({ upn }));
  const meeting = newMeeting(ctx, {
    subject: event.subject,
    startDateTime: new Date(start).toISOString(),
    endDateTime: new Date(end).toISOString(),
    participants: { attendees },
  });
  return store.insert(meetingsRef(store, user.id), {
    ...meeting,
    joinWebUrl: joinUrl,
    standalone: false,
    eventId: event.id,
  });
}

function sameUrl(a: string | undefined, b: string): boolean {
  if (!a) return false;
  const norm = (u: string) => {
    try {
      return decodeURIComponent(u);
    } catch {
      return u;
    }
  };
  return norm(a) === norm(b);
}

// ---------------------------------------------------------------- artifacts

function artifactIds(meeting: Entity, kind: 'transcripts' | 'recordings' | 'attendance') {
  return (meeting[kind] as Array<{ id: string }> | undefined) ?? [];
}

function organizerOf(meeting: Entity) {
  const organizer = (meeting.participants as { organizer: { identity: { user: Record<string, unknown> } } })
    .organizer;
  return { application: null, device: null, user: organizer.identity.user };
}

function renderTranscript(ctx: GraphCtx, meeting: Entity, t: Transcript): Record<string, unknown> {
  const base = `${ctx.sandbox.graphBaseUrl}/users/${ctx.user!.id}/onlineMeetings/${meeting.id}/transcripts/${t.id}`;
  return {
    id: t.id,
    meetingId: meeting.id,
    callId: null,
    contentCorrelationId: createHash('sha256').update(t.id).digest('hex').slice(0, 32),
    transcriptContentUrl: `${base}/content`,
    createdDateTime: t.createdDateTime,
    endDateTime: t.endDateTime,
    meetingOrganizer: organizerOf(meeting),
  };
}

function renderRecording(ctx: GraphCtx, meeting: Entity, r: Recording): Record<string, unknown> {
  const base = `${ctx.sandbox.graphBaseUrl}/users/${ctx.user!.id}/onlineMeetings/${meeting.id}/recordings/${r.id}`;
  return {
    id: r.id,
    meetingId: meeting.id,
    callId: null,
    contentCorrelationId: createHash('sha256').update(r.id).digest('hex').slice(0, 32),
    recordingContentUrl: `${base}/content`,
    createdDateTime: r.createdDateTime,
    endDateTime: r.endDateTime,
    meetingOrganizer: organizerOf(meeting),
  };
}

function renderRecord(r: AttendanceRecord): Record<string, unknown> {
  const intervals = r.intervals.map((i) => ({
    joinDateTime: i.joinDateTime,
    leaveDateTime: i.leaveDateTime,
    durationInSeconds: Math.round((Date.parse(i.leaveDateTime) - Date.parse(i.joinDateTime)) / 1000),
  }));
  return {
    id: r.id,
    emailAddress: r.emailAddress,
    totalAttendanceInSeconds: intervals.reduce((s, i) => s + i.durationInSeconds, 0),
    role: r.role,
    identity: { id: r.userId, displayName: r.displayName },
    attendanceIntervals: intervals,
  };
}

function renderReport(r: AttendanceReport, expand: boolean): Record<string, unknown> {
  return {
    id: r.id,
    totalParticipantCount: r.records.length,
    meetingStartDateTime: r.meetingStartDateTime,
    meetingEndDateTime: r.meetingEndDateTime,
    ...(expand ? { attendanceRecords: r.records.map(renderRecord) } : {}),
  };
}

const timestamp = (seconds: number) => {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${s.toFixed(3).padStart(6, '0')}`;
};

/** WebVTT as Teams writes it: one cue per utterance, `<v Speaker>` unless speakers are left out. */
export function toVtt(lines: TranscriptLine[], speakers: boolean): string {
  const cues = lines.map(
    (l) =>
      `${timestamp(l.start)} --> ${timestamp(l.end)}\n${speakers ? `<v ${l.speaker}>${l.text}</v>` : l.text}`,
  );
  return `WEBVTT\n\n${cues.join('\n\n')}\n`;
}

function one<T extends { id: string }>(list: T[], id: string, what: string): T {
  const found = list.find((x) => x.id === id);
  if (!found) throw notFound('teams', `The ${what} was not found.`);
  return found;
}

// ---------------------------------------------------------------- routes

export function installMeetings(sandbox: Sandbox): void {
  const base = '/me/onlineMeetings';
  graphRoute(sandbox, 'POST', base, opts(MEETINGS_WRITE), async (ctx) => {
    const body = (await ctx.json<Record<string, unknown>>()) ?? {};
    const store = ctx.graph.store;
    const created = store.insert(meetingsRef(store, ctx.user!.id), newMeeting(ctx, body));
    return entityResponse(ctx, renderMeeting(created), {
      status: 201,
      context: 'users/onlineMeetings/$entity',
    });
  });

  graphRoute(sandbox, 'GET', base, opts(MEETINGS_READ), (ctx) => {
    // onlinemeeting-get.md: meetings are found by join URL or join meeting id, never listed.
    const raw = ctx.query.get('$filter');
    if (!raw) {
      throw badRequest(
        'teams',
        "Filter expression expected: use $filter=JoinWebUrl eq '{joinWebUrl}' or joinMeetingIdSettings/joinMeetingId eq '{id}'.",
      );
    }
    const filter = parseFilter(raw, 'teams');
    const m = /^\s*(JoinWebUrl|joinMeetingIdSettings\/joinMeetingId)\s+eq\s+'((?:[^']|'')*)'\s*$/i.exec(raw);
    if (!m || filter === undefined)
      throw badRequest('teams', 'Only JoinWebUrl or joinMeetingIdSettings/joinMeetingId can be filtered on.');
    const value = m[2]!.replace(/''/g, "'");
    const byUrl = m[1]!.toLowerCase() === 'joinweburl';
    let found = ctx.graph.store
      .list(meetingsRef(ctx.graph.store, ctx.user!.id))
      .filter((x) =>
        byUrl
          ? sameUrl(String(x.joinWebUrl), value)
          : (x.joinMeetingIdSettings as { joinMeetingId: string }).joinMeetingId === value,
      );
    if (found.length === 0 && byUrl) {
      const fromEvent = meetingOfEvent(ctx, value);
      if (fromEvent) found = [fromEvent];
    }
    return json(200, {
      '@odata.context': `${ctx.sandbox.graphBaseUrl}/$metadata#users('${ctx.user!.id}')/onlineMeetings`,
      value: found.map(renderMeeting),
    });
  });

  graphRoute(sandbox, 'GET', `${base}/:meetingId`, opts(MEETINGS_READ), (ctx) =>
    entityResponse(ctx, renderMeeting(findMeeting(ctx).meeting), { context: 'users/onlineMeetings/$entity' }),
  );

  graphRoute(sandbox, 'PATCH', `${base}/:meetingId`, opts(MEETINGS_WRITE), async (ctx) => {
    const { ref, meeting } = findMeeting(ctx);
    const body = (await ctx.json<Record<string, unknown>>()) ?? {};
    const patch: Record<string, unknown> = {};
    if (body.subject !== undefined) {
      if (typeof body.subject !== 'string') throw badRequest('teams', 'subject must be text.');
      patch.subject = body.subject;
    }
    const start = isoDate(body.startDateTime, 'startDateTime');
    const end = isoDate(body.endDateTime, 'endDateTime');
    if (start) patch.startDateTime = start;
    if (end) patch.endDateTime = end;
    const updated = ctx.graph.store.update(ref, meeting.id, patch)!;
    return entityResponse(ctx, renderMeeting(updated), { context: 'users/onlineMeetings/$entity' });
  });

  graphRoute(sandbox, 'DELETE', `${base}/:meetingId`, opts(MEETINGS_WRITE), (ctx) => {
    const { ref, meeting } = findMeeting(ctx);
    ctx.graph.store.remove(ref, meeting.id);
    return empty(204);
  });

  // ---- transcripts
  graphRoute(sandbox, 'GET', `${base}/:meetingId/transcripts`, opts(TRANSCRIPTS), (ctx) => {
    const { meeting } = findMeeting(ctx);
    const list = artifactIds(meeting, 'transcripts') as Transcript[];
    return json(200, {
      '@odata.context': `${ctx.sandbox.graphBaseUrl}/$metadata#users('${ctx.user!.id}')/onlineMeetings('${meeting.id}')/transcripts`,
      value: list.map((t) => renderTranscript(ctx, meeting, t)),
    });
  });
  graphRoute(sandbox, 'GET', `${base}/:meetingId/transcripts/:transcriptId`, opts(TRANSCRIPTS), (ctx) => {
    const { meeting } = findMeeting(ctx);
    const t = one(
      artifactIds(meeting, 'transcripts') as Transcript[],
      ctx.params.transcriptId!,
      'transcript',
    );
    return entityResponse(ctx, renderTranscript(ctx, meeting, t), { context: 'callTranscript/$entity' });
  });
  graphRoute(
    sandbox,
    'GET',
    `${base}/:meetingId/transcripts/:transcriptId/content`,
    opts(TRANSCRIPTS),
    (ctx) => {
      const { meeting } = findMeeting(ctx);
      const t = one(
        artifactIds(meeting, 'transcripts') as Transcript[],
        ctx.params.transcriptId!,
        'transcript',
      );
      const format = ctx.query.get('$format');
      const accept = String(ctx.headers.accept ?? '');
      if (format !== null && format !== 'text/vtt') {
        // The speaker-less format is chosen by Accept only (calltranscript-get.md).
        throw badRequest('teams', `Invalid format '${format}'.`);
      }
      const plain = format === null && accept.includes('application/vnd.microsoft.graph.transcript+text');
      return text(
        200,
        toVtt(t.lines, !plain),
        plain ? 'application/vnd.microsoft.graph.transcript+text' : 'text/vtt',
      );
    },
  );

  // ---- recordings
  graphRoute(sandbox, 'GET', `${base}/:meetingId/recordings`, opts(RECORDINGS), (ctx) => {
    const { meeting } = findMeeting(ctx);
    return json(200, {
      '@odata.context': `${ctx.sandbox.graphBaseUrl}/$metadata#users('${ctx.user!.id}')/onlineMeetings('${meeting.id}')/recordings`,
      value: (artifactIds(meeting, 'recordings') as Recording[]).map((r) => renderRecording(ctx, meeting, r)),
    });
  });
  graphRoute(sandbox, 'GET', `${base}/:meetingId/recordings/:recordingId`, opts(RECORDINGS), (ctx) => {
    const { meeting } = findMeeting(ctx);
    const r = one(artifactIds(meeting, 'recordings') as Recording[], ctx.params.recordingId!, 'recording');
    return entityResponse(ctx, renderRecording(ctx, meeting, r), { context: 'callRecording/$entity' });
  });
  graphRoute(
    sandbox,
    'GET',
    `${base}/:meetingId/recordings/:recordingId/content`,
    opts(RECORDINGS),
    (ctx) => {
      const { meeting } = findMeeting(ctx);
      const r = one(artifactIds(meeting, 'recordings') as Recording[], ctx.params.recordingId!, 'recording');
      return {
        status: 200,
        headers: { 'content-type': 'video/mp4', 'content-length': String(r.size) },
        body: recordingBytes(r),
      };
    },
  );

  // ---- attendance
  graphRoute(sandbox, 'GET', `${base}/:meetingId/attendanceReports`, opts(ATTENDANCE), (ctx) => {
    const { meeting } = findMeeting(ctx);
    return json(200, {
      '@odata.context': `${ctx.sandbox.graphBaseUrl}/$metadata#users('${ctx.user!.id}')/onlineMeetings('${meeting.id}')/attendanceReports`,
      value: (artifactIds(meeting, 'attendance') as AttendanceReport[]).map((r) => renderReport(r, false)),
    });
  });
  graphRoute(sandbox, 'GET', `${base}/:meetingId/attendanceReports/:reportId`, opts(ATTENDANCE), (ctx) => {
    const { meeting } = findMeeting(ctx);
    const r = one(
      artifactIds(meeting, 'attendance') as AttendanceReport[],
      ctx.params.reportId!,
      'attendance report',
    );
    const expand = /attendanceRecords/i.test(ctx.query.get('$expand') ?? '');
    return entityResponse(ctx, renderReport(r, expand), { context: 'meetingAttendanceReport/$entity' });
  });
  graphRoute(
    sandbox,
    'GET',
    `${base}/:meetingId/attendanceReports/:reportId/attendanceRecords`,
    opts(ATTENDANCE),
    (ctx) => {
      const { meeting } = findMeeting(ctx);
      const r = one(
        artifactIds(meeting, 'attendance') as AttendanceReport[],
        ctx.params.reportId!,
        'attendance report',
      );
      return json(200, {
        '@odata.context': `${ctx.sandbox.graphBaseUrl}/$metadata#attendanceRecords`,
        value: r.records.map(renderRecord),
      });
    },
  );

  installMeetingsControl(sandbox);
}

/** A recording's bytes, generated from its id (the sandbox keeps sizes, not videos). */
function recordingBytes(r: Recording): Buffer {
  const seed = createHash('sha256').update(r.id).digest();
  const out = Buffer.alloc(r.size);
  for (let i = 0; i < out.length; i += seed.length)
    seed.copy(out, i, 0, Math.min(seed.length, out.length - i));
  return out;
}

/**
 * What happens in a meeting, for tests and demos (the sandbox hosts no calls):
 * POST /_sandbox/meetings/{user}/{meetingId}/transcripts {lines: [{speaker, start, end, text}]},
 * .../recordings {size}, .../attendance {records: [{email, intervals: [{join, leave}] (offsets in
 * seconds from the start), role?}]}. Each answers the new artifact's id.
 */
function installMeetingsControl(sandbox: Sandbox): void {
  const find = (userKey: string, id: string) => {
    const user = sandbox.directory.findUser(userKey);
    if (!user) throw new GraphHttpError(404, 'NotFound', `No user ${userKey}.`);
    const store = graphState(sandbox).store;
    const ref = meetingsRef(store, user.id);
    const meeting = store.get(ref, id);
    if (!meeting) throw new GraphHttpError(404, 'NotFound', 'No such meeting.');
    return { store, ref, meeting };
  };
  const add = async (
    ctx: { params: Record<string, string | undefined>; json<T>(): Promise<T> },
    kind: 'transcripts' | 'recordings' | 'attendance',
    build: (meeting: Entity, body: Record<string, unknown>) => { id: string },
  ) => {
    try {
      const { store, ref, meeting } = find(ctx.params.user ?? '', ctx.params.meetingId ?? '');
      if (meeting.standalone === true && kind !== 'attendance') {
        // Graph keeps no transcripts or recordings for meetings without a calendar event.
        throw new GraphHttpError(
          409,
          'Conflict',
          'This meeting was made by POST /onlineMeetings, not by a Teams event: Graph has no transcripts or recordings for it (calltranscript-get.md). Create a Teams event and find its meeting by join URL.',
        );
      }
      const artifact = build(meeting, (await ctx.json<Record<string, unknown>>()) ?? {});
      store.update(ref, meeting.id, { [kind]: [...artifactIds(meeting, kind), artifact] });
      return json(201, { id: artifact.id });
    } catch (err) {
      if (err instanceof GraphHttpError)
        return json(err.status, { error: { code: err.code, message: err.message } });
      return json(400, { error: { code: 'BadRequest', message: (err as Error).message } });
    }
  };
  const at = (meeting: Entity, seconds: number) =>
    new Date(Date.parse(String(meeting.startDateTime)) + seconds * 1000).toISOString();
  const c = sandbox.control;
  c.on('POST', '/meetings/:user/:meetingId/transcripts', (ctx) =>
    add(ctx, 'transcripts', (meeting, body) => {
      const lines = body.lines as TranscriptLine[] | undefined;
      if (!Array.isArray(lines) || lines.length === 0)
        throw new Error('lines: [{speaker, start, end, text}] required');
      const last = Math.max(...lines.map((l) => Number(l.end)));
      return {
        id: `MSMjMCMj${randomBytes(18).toString('base64url')}`,
        createdDateTime: at(meeting, last),
        endDateTime: at(meeting, last),
        lines,
      } satisfies Transcript;
    }),
  );
  c.on('POST', '/meetings/:user/:meetingId/recordings', (ctx) =>
    add(ctx, 'recordings', (meeting, body) => {
      const size = Number(body.size ?? 1024);
      if (!Number.isInteger(size) || size < 0 || size > 512 * 1024 * 1024)
        throw new Error('size: 0 to 512 MiB');
      return {
        id: `MSMjMCMj${randomBytes(18).toString('base64url')}`,
        createdDateTime: at(meeting, 3600),
        endDateTime: at(meeting, 3600),
        size,
      } satisfies Recording;
    }),
  );
  c.on('POST', '/meetings/:user/:meetingId/attendance', (ctx) =>
    add(ctx, 'attendance', (meeting, body) => {
      const records =
        (body.records as
          | Array<{ email: string; role?: string; intervals: Array<{ join: number; leave: number }> }>
          | undefined) ?? [];
      const report: AttendanceReport = {
        id: randomBytes(16).toString('hex'),
        meetingStartDateTime: String(meeting.startDateTime),
        meetingEndDateTime: String(meeting.endDateTime),
        records: records.map((r) => {
          const user = sandbox.directory.findUser(r.email);
          return {
            id: user?.id ?? randomBytes(8).toString('hex'),
            emailAddress: r.email,
            displayName: user?.displayName ?? r.email,
            userId: user?.id ?? null,
            role: r.role ?? 'Attendee',
            intervals: r.intervals.map((i) => ({
              joinDateTime: at(meeting, i.join),
              leaveDateTime: at(meeting, i.leave),
            })),
          };
        }),
      };
      return report;
    }),
  );
}
