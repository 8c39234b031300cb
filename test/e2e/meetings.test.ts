/**
 * Teams meetings through the local host (issue 23): a Teams event's meeting found by its join
 * URL, its transcript (seeded in the sandbox, which hosts no calls) read as text with speakers
 * and times, its attendance with durations, its recording streamed; a standalone meeting created;
 * and the consent model: what meetings leave behind needs its own, admin-consented feature.
 */
import { createHash } from 'node:crypto';
import { startTestApp } from '../support/app';
import { controlCall, mintToken } from '../support/sandbox';
import { TEST_APP, type TestApp } from '../../scripts/harness';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
let t: TestApp;
let adele: string;

async function call(action: string, input: unknown, user = adele) {
  const res = await t.call(user, 'POST', action.includes('/') ? action : `/meetings/${action}`, input);
  return { status: res.status, body: (await res.json()) as Json };
}

beforeAll(async () => {
  t = await startTestApp();
  // Transcripts, recordings and attendance need an administrator's consent (meetings-content).
  await controlCall(t.sandbox, 'PATCH', `/apps/${TEST_APP.clientId}`, {
    adminConsentedScopes: [
      'OnlineMeetingTranscript.Read.All',
      'OnlineMeetingRecording.Read.All',
      'OnlineMeetingArtifact.Read.All',
    ],
  });
  adele = await t.connect(ADELE, { features: ['calendar', 'meetings', 'meetings-content'] });
}, 60000);
afterAll(async () => await t.stop());

test('a Teams event’s meeting: the transcript as text with speakers, attendance with durations, the recording', async () => {
  const event = await call('/calendar/createEvent', {
    subject: 'Q3 decisions',
    start: '2027-03-04T10:00:00+01:00',
    end: '2027-03-04T11:00:00+01:00',
    attendees: [{ email: MEGAN }],
    teamsMeeting: true,
  });
  expect(event.status).toBe(201);
  const joinUrl = String(event.body.onlineMeetingUrl);
  expect(joinUrl).toMatch(/^https:\/\/teams\.microsoft\.com\//);

  const meeting = await call('get', { joinUrl });
  expect(meeting.status).toBe(200);
  expect(meeting.body).toMatchObject({ subject: 'Q3 decisions', organizer: ADELE, attendees: [MEGAN] });
  const id = String(meeting.body.id);

  // What the meeting left behind (the sandbox's control API plays the call).
  await controlCall(t.sandbox, 'POST', `/meetings/${ADELE}/${encodeURIComponent(id)}/transcripts`, {
    lines: [
      { speaker: 'Adele Vance', start: 2, end: 6.5, text: 'We ship the beta in May.' },
      { speaker: 'Megan Bowen', start: 65, end: 70, text: 'Then marketing starts on the 1st.' },
    ],
  });
  await controlCall(t.sandbox, 'POST', `/meetings/${ADELE}/${encodeURIComponent(id)}/attendance`, {
    records: [
      { email: ADELE, role: 'Organizer', intervals: [{ join: 0, leave: 3600 }] },
      {
        email: MEGAN,
        intervals: [
          { join: 60, leave: 1860 },
          { join: 2400, leave: 3000 },
        ],
      },
    ],
  });
  await controlCall(t.sandbox, 'POST', `/meetings/${ADELE}/${encodeURIComponent(id)}/recordings`, {
    size: 300_000,
  });

  const listed = await call('listTranscripts', { meetingId: id });
  expect(listed.body.items).toHaveLength(1);
  const transcript = await call('getTranscript', { meetingId: id });
  expect(transcript.status).toBe(200);
  expect(transcript.body.text).toBe(
    '[00:00:02] Adele Vance: We ship the beta in May.\n[00:01:05] Megan Bowen: Then marketing starts on the 1st.',
  );
  expect(transcript.body.speakers).toEqual(['Adele Vance', 'Megan Bowen']);
  expect(transcript.body.cues[1]).toEqual({
    start: 65,
    end: 70,
    speaker: 'Megan Bowen',
    text: 'Then marketing starts on the 1st.',
  });

  const attendance = await call('getAttendance', { meetingId: id });
  expect(attendance.body.participants).toBe(2);
  expect(
    (attendance.body.attendees as Json[]).map((a) => [
      String(a.name),
      Number(a.totalSeconds),
      Number(a.intervals.length),
    ]),
  ).toEqual([
    ['Adele Vance', 3600, 1],
    ['Megan Bowen', 2400, 2],
  ]);

  const recordings = await call('listRecordings', { meetingId: id });
  const recordingId = String(recordings.body.items[0].id);
  const download = await fetch(
    `${t.api}/meetings/downloadRecording?${new URLSearchParams({ meetingId: id, recordingId })}`,
    {
      headers: {
        'x-functions-key': 'harness-function-key',
        authorization: `Bearer ${await t.tokenFor(adele)}`,
      },
    },
  );
  expect(download.status).toBe(200);
  expect(download.headers.get('content-type')).toBe('video/mp4');
  const bytes = new Uint8Array(await download.arrayBuffer());
  expect(bytes.length).toBe(300_000);
  // The same bytes Graph serves (fetched straight from the sandbox), passed through unchanged.
  const token = await mintToken(t.sandbox, ADELE, ['OnlineMeetingRecording.Read.All']);
  const direct = await fetch(
    `${t.sandbox.graphBaseUrl}/me/onlineMeetings/${encodeURIComponent(id)}/recordings/${encodeURIComponent(recordingId)}/content`,
    { headers: { authorization: `Bearer ${token}` } },
  );
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  expect(sha(bytes)).toBe(sha(new Uint8Array(await direct.arrayBuffer())));
});

test('a standalone meeting gets a join link; without transcripts the answer says why', async () => {
  const created = await call('create', {
    subject: 'Quick sync',
    start: '2027-03-05T09:00:00Z',
    end: '2027-03-05T09:30:00Z',
    attendees: [MEGAN],
  });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ subject: 'Quick sync', organizer: ADELE, attendees: [MEGAN] });
  expect(created.body.joinMeetingId).toMatch(/^\d+$/);
  const byUrl = await call('get', { joinUrl: created.body.joinUrl });
  expect(byUrl.body.id).toBe(created.body.id);

  const none = await call('getTranscript', { meetingId: created.body.id });
  expect(none.status).toBe(404);
  expect(none.body.detail).toContain('no transcript');
  expect(
    (await call('create', { subject: 'x', start: '2027-03-05T10:00:00Z', end: '2027-03-05T09:00:00Z' }))
      .status,
  ).toBe(400);
});

test('meeting content needs the meetings-content feature', async () => {
  const other = await t.connect(ADELE, { features: ['meetings'] });
  const created = await call(
    'create',
    { subject: 'No content', start: '2027-03-06T09:00:00Z', end: '2027-03-06T10:00:00Z' },
    other,
  );
  expect(created.status).toBe(201);
  const denied = await call('listTranscripts', { meetingId: created.body.id }, other);
  expect(denied.status).toBe(403);
  expect(denied.body.code).toBe('feature_not_granted');
});
