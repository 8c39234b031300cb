/**
 * The sandbox's online meetings through the real @microsoft/microsoft-graph-client: create, find
 * by join URL (there is no unfiltered list), and the artifacts a meeting leaves (transcripts as
 * WebVTT with or without speakers, recordings, attendance reports), each rule citing its page.
 */
import type { Client } from '@microsoft/microsoft-graph-client';
import type { Sandbox } from '../../sandbox';
import { controlCall, graphClientFor, graphFailure, mintToken, startTestSandbox } from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
let sandbox: Sandbox;
let client: Client;
let token: string;

beforeAll(async () => {
  sandbox = await startTestSandbox({ seed: true });
  token = await mintToken(sandbox, ADELE, [
    'OnlineMeetings.ReadWrite',
    'OnlineMeetingTranscript.Read.All',
    'OnlineMeetingRecording.Read.All',
    'OnlineMeetingArtifact.Read.All',
    'Calendars.ReadWrite',
  ]);
  client = graphClientFor(sandbox, token);
});
afterAll(async () => await sandbox.stop());

/**
 * The meeting behind a Teams event: Graph keeps transcripts and recordings only for meetings on a
 * calendar (calltranscript-get.md), found by the event's join URL (onlinemeeting-get.md).
 */
async function teamsMeeting(subject: string): Promise<Json> {
  const event = (await client.api('/me/events').post({
    subject,
    start: { dateTime: '2027-03-04T10:00:00', timeZone: 'Europe/Berlin' },
    end: { dateTime: '2027-03-04T11:00:00', timeZone: 'Europe/Berlin' },
    attendees: [{ emailAddress: { address: MEGAN }, type: 'required' }],
    isOnlineMeeting: true,
    onlineMeetingProvider: 'teamsForBusiness',
  })) as Json;
  const found = await client
    .api('/me/onlineMeetings')
    .filter(`JoinWebUrl eq '${event.onlineMeeting.joinUrl}'`)
    .get();
  expect(found.value).toHaveLength(1);
  return found.value[0] as Json;
}

async function createMeeting(subject = 'Roadmap review'): Promise<Json> {
  return (await client.api('/me/onlineMeetings').post({
    subject,
    startDateTime: '2027-03-04T09:00:00Z',
    endDateTime: '2027-03-04T10:00:00Z',
    participants: { attendees: [{ upn: MEGAN }] },
  })) as Json;
}

test('a meeting is created with its join URL and found again by it, never listed without a filter', async () => {
  // onlinemeeting-create.md: 201 with joinWebUrl, joinMeetingIdSettings, chatInfo, participants.
  const meeting = await createMeeting();
  expect(meeting).toMatchObject({
    subject: 'Roadmap review',
    startDateTime: '2027-03-04T09:00:00.000Z',
    participants: { organizer: { upn: ADELE, role: 'presenter' }, attendees: [{ upn: MEGAN }] },
  });
  expect(meeting.joinWebUrl).toMatch(/^https:\/\/teams\.microsoft\.com\/l\/meetup-join\//);
  expect(meeting.joinMeetingIdSettings.joinMeetingId).toMatch(/^\d+$/);

  // onlinemeeting-get.md: GET /me/onlineMeetings?$filter=JoinWebUrl eq '{joinWebUrl}'.
  const found = await client.api('/me/onlineMeetings').filter(`JoinWebUrl eq '${meeting.joinWebUrl}'`).get();
  expect(found.value.map((m: Json) => String(m.id))).toEqual([meeting.id]);
  const byId = await client
    .api('/me/onlineMeetings')
    .filter(`joinMeetingIdSettings/joinMeetingId eq '${meeting.joinMeetingIdSettings.joinMeetingId}'`)
    .get();
  expect(byId.value).toHaveLength(1);
  expect((await graphFailure(client.api('/me/onlineMeetings').get())).statusCode).toBe(400);
  expect((await client.api(`/me/onlineMeetings/${meeting.id}`).get()).id).toBe(meeting.id);

  // Another user's meeting id is not found for this user.
  const megan = graphClientFor(sandbox, await mintToken(sandbox, MEGAN, ['OnlineMeetings.ReadWrite']));
  expect((await graphFailure(megan.api(`/me/onlineMeetings/${meeting.id}`).get())).statusCode).toBe(404);
});

test("a Teams event's meeting is found by its join URL, with the event's subject, times and attendees", async () => {
  const meeting = await teamsMeeting('Planning');
  expect(meeting).toMatchObject({
    subject: 'Planning',
    startDateTime: '2027-03-04T09:00:00.000Z',
    endDateTime: '2027-03-04T10:00:00.000Z',
    participants: { organizer: { upn: ADELE }, attendees: [{ upn: MEGAN }] },
  });
  // Found again, it is the same meeting.
  const again = await client.api('/me/onlineMeetings').filter(`JoinWebUrl eq '${meeting.joinWebUrl}'`).get();
  expect(again.value.map((m: Json) => String(m.id))).toEqual([meeting.id]);
  // A standalone meeting has no transcripts or recordings to add (the sandbox says why).
  const standalone = await createMeeting('Standalone');
  const res = await fetch(`${sandbox.url}/_sandbox/meetings/${ADELE}/${standalone.id}/transcripts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ lines: [{ speaker: 'A', start: 0, end: 1, text: 'x' }] }),
  });
  expect(res.status).toBe(409);
  expect(((await res.json()) as Json).error.message).toContain('calltranscript-get.md');
});

test('a transcript is WebVTT with <v Speaker> tags, or without speakers when asked by Accept', async () => {
  const meeting = await teamsMeeting('Decisions');
  await controlCall(sandbox, 'POST', `/meetings/${ADELE}/${meeting.id}/transcripts`, {
    lines: [
      { speaker: 'Adele Vance', start: 0, end: 4.5, text: 'We ship the beta in May.' },
      { speaker: 'Megan Bowen', start: 5, end: 9, text: 'Marketing is ready for it.' },
    ],
  });
  const list = await client.api(`/me/onlineMeetings/${meeting.id}/transcripts`).get();
  expect(list.value).toHaveLength(1);
  const transcript = list.value[0] as Json;
  expect(transcript).toMatchObject({ meetingId: meeting.id });

  // calltranscript-get.md: /content is text/vtt by default, with voice tags for speakers.
  const url = `${sandbox.graphBaseUrl}/me/onlineMeetings/${meeting.id}/transcripts/${transcript.id}/content`;
  const vtt = await fetch(`${url}?$format=text/vtt`, { headers: { authorization: `Bearer ${token}` } });
  expect(vtt.headers.get('content-type')).toContain('text/vtt');
  expect(await vtt.text()).toBe(
    'WEBVTT\n\n00:00:00.000 --> 00:00:04.500\n<v Adele Vance>We ship the beta in May.</v>\n\n' +
      '00:00:05.000 --> 00:00:09.000\n<v Megan Bowen>Marketing is ready for it.</v>\n',
  );
  const plain = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, accept: 'application/vnd.microsoft.graph.transcript+text' },
  });
  expect(await plain.text()).not.toContain('<v ');
  // That format is chosen by Accept only: $format does not take it.
  const bad = await fetch(`${url}?$format=application/vnd.microsoft.graph.transcript%2Btext`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(bad.status).toBe(400);

  // Transcripts need their own permission (OnlineMeetingTranscript.Read.All).
  const meetingsOnly = graphClientFor(sandbox, await mintToken(sandbox, ADELE, ['OnlineMeetings.ReadWrite']));
  expect(
    (await graphFailure(meetingsOnly.api(`/me/onlineMeetings/${meeting.id}/transcripts`).get())).statusCode,
  ).toBe(403);
});

test('recordings stream their content; attendance reports list each attendee with durations', async () => {
  const meeting = await teamsMeeting('Launch sync');
  await controlCall(sandbox, 'POST', `/meetings/${ADELE}/${meeting.id}/recordings`, { size: 50_000 });
  const recordings = await client.api(`/me/onlineMeetings/${meeting.id}/recordings`).get();
  const recording = recordings.value[0] as Json;
  const content = await fetch(
    `${sandbox.graphBaseUrl}/me/onlineMeetings/${meeting.id}/recordings/${recording.id}/content`,
    { headers: { authorization: `Bearer ${token}` } },
  );
  expect(content.headers.get('content-type')).toBe('video/mp4');
  expect((await content.arrayBuffer()).byteLength).toBe(50_000);

  await controlCall(sandbox, 'POST', `/meetings/${ADELE}/${meeting.id}/attendance`, {
    records: [
      { email: ADELE, role: 'Organizer', intervals: [{ join: 0, leave: 3600 }] },
      {
        email: MEGAN,
        intervals: [
          { join: 120, leave: 1320 },
          { join: 1800, leave: 2400 },
        ],
      },
    ],
  });
  // meetingattendancereport-list.md, then one report with $expand=attendanceRecords.
  const reports = await client.api(`/me/onlineMeetings/${meeting.id}/attendanceReports`).get();
  expect(reports.value[0]).toMatchObject({ totalParticipantCount: 2 });
  const report = await client
    .api(`/me/onlineMeetings/${meeting.id}/attendanceReports/${reports.value[0].id}`)
    .expand('attendanceRecords')
    .get();
  const megan = (report.attendanceRecords as Json[]).find((r) => r.emailAddress === MEGAN)!;
  expect(megan.totalAttendanceInSeconds).toBe(1800);
  expect(megan.attendanceIntervals.map((i: Json) => Number(i.durationInSeconds))).toEqual([1200, 600]);
  expect(megan.identity.displayName).toBe('Megan Bowen');
});
