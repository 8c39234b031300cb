/**
 * Responses have the shape of Graph v1.0 (issue 20): every entity the sandbox returns, from its
 * seeded tenant and from writes, held property by property to Microsoft's API description
 * (test/support/csdl-schema.ts): no undeclared property, every value of its declared type, and
 * every property the docs' response examples show by default (test/support/graph-defaults.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Sandbox } from '../../sandbox';
import { schemaIssues } from '../support/csdl-schema';
import { missingDefaults } from '../support/graph-defaults';
import { mintToken, startTestSandbox } from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';

let sandbox: Sandbox;
let token: string;

beforeAll(async () => {
  sandbox = await startTestSandbox();
  token = await mintToken(sandbox, ADELE, [
    'User.Read.All',
    'Mail.ReadWrite',
    'Mail.Send',
    'Calendars.ReadWrite',
    'Files.ReadWrite',
    'Contacts.ReadWrite',
    'Tasks.ReadWrite',
    'Chat.ReadWrite',
    'ChannelMessage.Read.All',
    'ChannelMessage.Send',
    'Team.ReadBasic.All',
    'Channel.ReadBasic.All',
    'MailboxSettings.ReadWrite',
    'Calendars.Read.Shared',
    'Sites.ReadWrite.All',
    'OnlineMeetings.ReadWrite',
    'OnlineMeetingTranscript.Read.All',
    'OnlineMeetingRecording.Read.All',
    'OnlineMeetingArtifact.Read.All',
    'Place.Read.All',
  ]);
});
afterAll(async () => await sandbox.stop());

async function graph(method: string, path: string, body?: unknown): Promise<Json> {
  const res = await fetch(`${sandbox.graphBaseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : {}) as Json;
}

/** Checks one entity or every item of a collection; returns the items for further calls. */
function expectShape(type: string, answer: Json): Json[] {
  const items = Array.isArray(answer.value) ? (answer.value as Json[]) : [answer];
  const issues = items.flatMap((item, i) => [
    ...schemaIssues(`microsoft.graph.${type}`, item, `${type}[${i}]`),
    // Every request here is made without $select: Graph's default properties must all be there.
    ...missingDefaults(type, item, `${type}[${i}]`),
  ]);
  expect(issues).toEqual([]);
  return items;
}

test('users and the mailbox settings', async () => {
  expectShape('user', await graph('GET', '/me'));
  expectShape('user', await graph('GET', '/users'));
  expectShape('mailboxSettings', await graph('GET', '/me/mailboxSettings'));
});

test('mail: folders, messages, attachments, delta', async () => {
  expectShape('mailFolder', await graph('GET', '/me/mailFolders'));
  const messages = expectShape('message', await graph('GET', '/me/messages?$top=20'));
  const withFiles = messages.find((m) => m.hasAttachments === true);
  expect(withFiles).toBeDefined();
  expectShape('message', await graph('GET', `/me/messages/${withFiles!.id}?$expand=attachments`));
  expectShape('attachment', await graph('GET', `/me/messages/${withFiles!.id}/attachments`));
  expectShape('message', await graph('GET', '/me/mailFolders/inbox/messages/delta'));
  const draft = await graph('POST', '/me/messages', {
    subject: 'Shape',
    toRecipients: [{ emailAddress: { address: MEGAN } }],
  });
  expectShape('message', draft);
  expectShape(
    'uploadSession',
    await graph('POST', `/me/messages/${draft.id}/attachments/createUploadSession`, {
      AttachmentItem: { attachmentType: 'file', name: 'big.bin', size: 4_000_000 },
    }),
  );
});

test('calendar: calendars, events, instances, schedules, meeting times', async () => {
  expectShape('calendar', await graph('GET', '/me/calendars'));
  await graph('POST', '/me/calendar/calendarPermissions', { emailAddress: { address: MEGAN }, role: 'read' });
  expectShape('calendarPermission', await graph('GET', '/me/calendar/calendarPermissions'));
  const events = expectShape('event', await graph('GET', '/me/events?$top=20'));
  expect(events.length).toBeGreaterThan(0);
  const start = new Date(Date.now() - 7 * 24 * 3600e3).toISOString();
  const end = new Date(Date.now() + 30 * 24 * 3600e3).toISOString();
  expectShape('event', await graph('GET', `/me/calendarView?startDateTime=${start}&endDateTime=${end}`));
  const created = await graph('POST', '/me/events', {
    subject: 'Shape check',
    start: { dateTime: end.slice(0, 19), timeZone: 'UTC' },
    end: { dateTime: end.slice(0, 19).replace(/T\d{2}/, 'T23'), timeZone: 'UTC' },
    attendees: [{ emailAddress: { address: MEGAN }, type: 'required' }],
  });
  expectShape('event', created);
  const day = end.slice(0, 10);
  expectShape(
    'scheduleInformation',
    await graph('POST', '/me/calendar/getSchedule', {
      schedules: [MEGAN],
      startTime: { dateTime: `${day}T08:00:00`, timeZone: 'UTC' },
      endTime: { dateTime: `${day}T18:00:00`, timeZone: 'UTC' },
    }),
  );
  expectShape(
    'meetingTimeSuggestionsResult',
    await graph('POST', '/me/findMeetingTimes', {
      attendees: [{ emailAddress: { address: MEGAN }, type: 'required' }],
    }),
  );
});

test('places: rooms and room lists', async () => {
  expect(expectShape('room', await graph('GET', '/places/microsoft.graph.room')).length).toBeGreaterThan(0);
  const lists = expectShape('roomList', await graph('GET', '/places/microsoft.graph.roomlist'));
  expectShape(
    'room',
    await graph(
      'GET',
      `/places/${encodeURIComponent(String(lists[0]!.emailAddress))}/microsoft.graph.roomlist/rooms`,
    ),
  );
  expectShape('roomList', await graph('GET', `/places/${String(lists[0]!.id)}`));
});

test('SharePoint: sites, lists, columns, list items and their fields, delta', async () => {
  const sites = expectShape('site', await graph('GET', '/sites?search=*'));
  expectShape('site', await graph('GET', '/sites/root'));
  expectShape('site', await graph('GET', '/me/followedSites'));
  const marketing = sites.find((s) => s.displayName === 'Marketing')!;
  const lists = expectShape('list', await graph('GET', `/sites/${marketing.id}/lists`));
  const list = lists[0]!;
  expectShape('columnDefinition', await graph('GET', `/sites/${marketing.id}/lists/${list.id}/columns`));
  expectShape('listItem', await graph('GET', `/sites/${marketing.id}/lists/${list.id}/items?$expand=fields`));
  expectShape('listItem', await graph('GET', `/sites/${marketing.id}/lists/${list.id}/items/delta`));
  const created = await graph('POST', `/sites/${marketing.id}/lists/${list.id}/items`, {
    fields: { Title: 'Shape' },
  });
  expectShape('listItem', created);
  expectShape(
    'fieldValueSet',
    await graph('GET', `/sites/${marketing.id}/lists/${list.id}/items/${created.id}/fields`),
  );
});

test('online meetings and their transcripts, recordings and attendance reports', async () => {
  const meeting = await graph('POST', '/me/onlineMeetings', {
    subject: 'Shape',
    startDateTime: '2027-01-01T10:00:00Z',
    endDateTime: '2027-01-01T11:00:00Z',
    participants: { attendees: [{ upn: MEGAN }] },
  });
  expectShape('onlineMeeting', meeting);
  expectShape('onlineMeeting', await graph('GET', `/me/onlineMeetings/${meeting.id}`));
  // Artifacts belong to the meeting of a Teams event (calltranscript-get.md).
  const event = await graph('POST', '/me/events', {
    subject: 'Shape event',
    start: { dateTime: '2027-01-02T10:00:00', timeZone: 'UTC' },
    end: { dateTime: '2027-01-02T11:00:00', timeZone: 'UTC' },
    isOnlineMeeting: true,
    onlineMeetingProvider: 'teamsForBusiness',
  });
  const joinUrl = String(event.onlineMeeting.joinUrl);
  const teams = expectShape(
    'onlineMeeting',
    await graph('GET', `/me/onlineMeetings?$filter=${encodeURIComponent(`JoinWebUrl eq '${joinUrl}'`)}`),
  )[0]!;
  const control = (path: string, body: unknown) =>
    fetch(`${sandbox.url}/_sandbox/meetings/${ADELE}/${teams.id}/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  await control('transcripts', { lines: [{ speaker: 'Adele Vance', start: 0, end: 2, text: 'Hello' }] });
  await control('recordings', { size: 10 });
  await control('attendance', { records: [{ email: MEGAN, intervals: [{ join: 0, leave: 60 }] }] });
  const base = `/me/onlineMeetings/${teams.id}`;
  const transcripts = expectShape('callTranscript', await graph('GET', `${base}/transcripts`));
  const recordings = expectShape('callRecording', await graph('GET', `${base}/recordings`));
  const reports = expectShape('meetingAttendanceReport', await graph('GET', `${base}/attendanceReports`));
  expect([transcripts.length, recordings.length, reports.length]).toEqual([1, 1, 1]);
  expectShape(
    'attendanceRecord',
    await graph('GET', `${base}/attendanceReports/${reports[0]!.id}/attendanceRecords`),
  );
});

test('files: drives, items, upload sessions, sharing links', async () => {
  expectShape('drive', await graph('GET', '/me/drive'));
  expectShape('drive', await graph('GET', '/me/drives'));
  expectShape('driveItem', await graph('GET', '/me/drive/root'));
  const children = expectShape('driveItem', await graph('GET', '/me/drive/root/children'));
  expectShape('driveItem', await graph('GET', '/me/drive/root/delta'));
  const file = children.find((i) => i.file !== undefined);
  expect(file).toBeDefined();
  expectShape(
    'permission',
    await graph('POST', `/me/drive/items/${file!.id}/createLink`, { type: 'view', scope: 'organization' }),
  );
  expectShape(
    'uploadSession',
    await graph('POST', '/me/drive/root:/Shapes/big.bin:/createUploadSession', {}),
  );
});

test('Teams: teams, channels, chats with members, messages', async () => {
  const teams = expectShape('team', await graph('GET', '/me/joinedTeams'));
  const channels = expectShape('channel', await graph('GET', `/teams/${teams[0]!.id}/channels`));
  expectShape(
    'chatMessage',
    await graph('GET', `/teams/${teams[0]!.id}/channels/${channels[0]!.id}/messages`),
  );
  const chats = expectShape('chat', await graph('GET', '/me/chats?$expand=members'));
  expect(chats.length).toBeGreaterThan(0);
  expectShape('chatMessage', await graph('GET', `/chats/${chats[0]!.id}/messages`));
});

test('contacts and To Do', async () => {
  expectShape('contact', await graph('GET', '/me/contacts'));
  expectShape('contactFolder', await graph('GET', '/me/contactFolders'));
  const lists = expectShape('todoTaskList', await graph('GET', '/me/todo/lists'));
  expectShape('todoTask', await graph('GET', `/me/todo/lists/${lists[0]!.id}/tasks`));
});

test('change notification subscriptions', async () => {
  // A webhook that answers the validation request (change-notifications-delivery-webhooks.md).
  const hook: Server = createServer((req, res) => {
    const token = new URL(req.url ?? '/', 'http://x').searchParams.get('validationToken');
    res.writeHead(token ? 200 : 202, { 'content-type': 'text/plain' }).end(token ?? '');
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
    const created = await graph('POST', '/subscriptions', {
      changeType: 'created,updated',
      notificationUrl: url,
      lifecycleNotificationUrl: url,
      resource: '/me/mailFolders/inbox/messages',
      expirationDateTime: new Date(Date.now() + 3600e3).toISOString(),
      clientState: 'shape-check',
    });
    expectShape('subscription', created);
    expectShape('subscription', await graph('GET', '/subscriptions'));
  } finally {
    await new Promise((r) => hook.close(r));
  }
});
