/**
 * Event attachments through the local host (issue 23): a small agenda and a 5 MB deck attached
 * to a meeting (one request, then an upload session), listed, and downloaded byte for byte; a
 * colleague's event's file read through her shared calendar.
 */
import { randomBytes } from 'node:crypto';
import { startTestApp } from '../support/app';
import { mintToken } from '../support/sandbox';
import { FUNCTION_KEY, type TestApp } from '../../scripts/harness';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
let t: TestApp;
let adele: string;

async function call(action: string, input: unknown) {
  const res = await t.call(adele, 'POST', `/calendar/${action}`, input);
  return { status: res.status, body: (await res.json()) as Json };
}

async function attach(eventId: string, name: string, bytes: Buffer) {
  const res = await fetch(
    `${t.api}/calendar/addEventAttachment?eventId=${encodeURIComponent(eventId)}&name=${encodeURIComponent(name)}`,
    {
      method: 'POST',
      headers: {
        'x-functions-key': FUNCTION_KEY,
        authorization: `Bearer ${await t.tokenFor(adele)}`,
        'content-type': 'application/octet-stream',
      },
      body: new Uint8Array(bytes),
    },
  );
  return { status: res.status, body: (await res.json()) as Json };
}

async function download(
  query: Record<string, string>,
): Promise<{ status: number; bytes: Buffer; headers: Headers }> {
  const res = await t.call(
    adele,
    'GET',
    `/calendar/downloadEventAttachment?${new URLSearchParams(query).toString()}`,
  );
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

beforeAll(async () => {
  t = await startTestApp();
  adele = await t.connect(ADELE, { features: ['calendar'] });
}, 60000);
afterAll(async () => await t.stop());

test('a small and a 5 MB file attached to an event, listed and downloaded byte for byte', async () => {
  const event = await call('createEvent', {
    subject: 'Board meeting',
    start: '2027-10-05T09:00:00+02:00',
    end: '2027-10-05T11:00:00+02:00',
  });
  expect(event.status).toBe(201);
  const eventId = String(event.body.id);

  const agenda = Buffer.from('1. Results\n2. Outlook\n');
  const small = await attach(eventId, 'agenda.txt', agenda);
  expect(small).toMatchObject({ status: 201, body: { size: agenda.length, method: 'inline' } });
  const deck = randomBytes(5_000_000);
  const big = await attach(eventId, 'Board deck.pdf', deck);
  expect(big).toMatchObject({ status: 201, body: { size: deck.length, method: 'uploadSession' } });

  const listed = await call('listEventAttachments', { eventId });
  expect(listed.status).toBe(200);
  expect((listed.body.items as Json[]).map((a) => [String(a.name), Number(a.size)])).toEqual([
    ['agenda.txt', agenda.length],
    ['Board deck.pdf', deck.length],
  ]);
  const deckId = String((listed.body.items as Json[])[1]!.id);
  const got = await download({ eventId, attachmentId: deckId });
  expect(got.status).toBe(200);
  expect(got.headers.get('content-disposition')).toContain('Board deck.pdf');
  expect(got.bytes.equals(deck)).toBe(true);

  const read = await call('getEvent', { eventId });
  expect(read.body.hasAttachments).toBe(true);
});

test("a colleague's event file through her shared calendar", async () => {
  const megan = await mintToken(t.sandbox, MEGAN, ['Calendars.ReadWrite']);
  const graph = async (method: string, path: string, body: unknown) => {
    const res = await fetch(`${t.sandbox.graphBaseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${megan}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBeLessThan(300);
    return (await res.json()) as Json;
  };
  const event = await graph('POST', '/me/events', {
    subject: 'Offsite plan',
    start: { dateTime: '2027-10-06T09:00:00', timeZone: 'UTC' },
    end: { dateTime: '2027-10-06T10:00:00', timeZone: 'UTC' },
  });
  await graph('POST', `/me/events/${String(event.id)}/attachments`, {
    '@odata.type': '#microsoft.graph.fileAttachment',
    name: 'plan.txt',
    contentBytes: Buffer.from('Day 1: hike').toString('base64'),
  });
  const eventId = String(event.id);
  const before = await call('listEventAttachments', { eventId, user: MEGAN });
  expect(before).toMatchObject({ status: 403, body: { code: 'calendar_not_shared' } });

  await graph('POST', '/me/calendar/calendarPermissions', { emailAddress: { address: ADELE }, role: 'read' });
  const listed = await call('listEventAttachments', { eventId, user: MEGAN });
  expect((listed.body.items as Json[]).map((a) => String(a.name))).toEqual(['plan.txt']);
  const got = await download({
    eventId,
    attachmentId: String((listed.body.items as Json[])[0]!.id),
    user: MEGAN,
  });
  expect(got.bytes.toString()).toBe('Day 1: hike');
});
