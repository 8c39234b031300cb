/**
 * Event attachments in the sandbox (event-list-attachments.md, event-post-attachments.md,
 * attachment-createuploadsession.md, outlook-large-attachments.md "an Outlook message or event
 * item"): small files in one POST, larger ones through an upload session on a pre-authenticated
 * URL, raw bytes with /$value, hasAttachments following them; an unchanged occurrence holds none.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from '@microsoft/microsoft-graph-client';
import type { Sandbox } from '../../sandbox';
import { graphClientFor, graphFailure, mintToken, startTestSandbox } from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
let sandbox: Sandbox;
let client: Client;
let token: string;

beforeAll(async () => {
  sandbox = await startTestSandbox({ seed: true });
  token = await mintToken(sandbox, ADELE, ['Calendars.ReadWrite']);
  client = graphClientFor(sandbox, token);
});
afterAll(async () => await sandbox.stop());

async function newEvent(extra: Json = {}): Promise<Json> {
  return (await client.api('/me/events').post({
    subject: 'With files',
    start: { dateTime: '2027-07-01T09:00:00', timeZone: 'UTC' },
    end: { dateTime: '2027-07-01T10:00:00', timeZone: 'UTC' },
    ...extra,
  })) as Json;
}

async function raw(path: string): Promise<Buffer> {
  const res = await fetch(`${sandbox.graphBaseUrl}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

test('a small file in one POST: listed, read back, and the event has attachments until it is deleted', async () => {
  const event = await newEvent();
  expect(event.hasAttachments).toBe(false);
  const created = (await client.api(`/me/events/${String(event.id)}/attachments`).post({
    '@odata.type': '#microsoft.graph.fileAttachment',
    name: 'agenda.txt',
    contentType: 'text/plain',
    contentBytes: Buffer.from('1. Budget\n2. Hiring\n').toString('base64'),
  })) as Json;
  expect(created).toMatchObject({ name: 'agenda.txt', size: 20, isInline: false });
  const list = (await client.api(`/me/events/${String(event.id)}/attachments`).get()) as Json;
  expect((list.value as Json[]).map((a) => String(a.name))).toEqual(['agenda.txt']);
  const bytes = await raw(`/me/events/${String(event.id)}/attachments/${String(created.id)}/$value`);
  expect(bytes.toString()).toBe('1. Budget\n2. Hiring\n');
  expect(((await client.api(`/me/events/${String(event.id)}`).get()) as Json).hasAttachments).toBe(true);

  await client.api(`/me/events/${String(event.id)}/attachments/${String(created.id)}`).delete();
  expect(((await client.api(`/me/events/${String(event.id)}`).get()) as Json).hasAttachments).toBe(false);
});

test('a 5 MB file through an upload session whose URL names the event', async () => {
  const event = await newEvent();
  const session = (await client.api(`/me/events/${String(event.id)}/attachments/createUploadSession`).post({
    AttachmentItem: {
      attachmentType: 'file',
      name: 'deck.pdf',
      size: 5_000_000,
      contentType: 'application/pdf',
    },
  })) as Json;
  const url = String(session.uploadUrl);
  expect(url).toMatch(/\/Events\('[^']+'\)\/AttachmentSessions\(/);
  const file = randomBytes(5_000_000);
  let location = '';
  for (let start = 0; start < file.length; start += 3_000_000) {
    const chunk = file.subarray(start, Math.min(start + 3_000_000, file.length));
    const res = await fetch(url, {
      method: 'PUT',
      headers: { 'content-range': `bytes ${start}-${start + chunk.length - 1}/${file.length}` },
      body: new Uint8Array(chunk),
    });
    expect(res.status).toBe(start + chunk.length < file.length ? 200 : 201);
    location = res.headers.get('location') ?? location;
  }
  const attachmentId = /Attachments\('([^']+)'\)/.exec(location)![1]!;
  const back = await raw(`/me/events/${String(event.id)}/attachments/${attachmentId}/$value`);
  expect(back.equals(file)).toBe(true);
});

test('an unchanged occurrence holds no attachments of its own', async () => {
  const series = await newEvent({
    recurrence: {
      pattern: { type: 'daily', interval: 1 },
      range: { type: 'numbered', startDate: '2027-07-01', numberOfOccurrences: 3 },
    },
  });
  const occurrences = (await client
    .api(`/me/events/${String(series.id)}/instances`)
    .query({ startDateTime: '2027-07-01T00:00:00Z', endDateTime: '2027-07-04T00:00:00Z' })
    .get()) as Json;
  const occurrence = (occurrences.value as Json[])[1]!;
  const err = await graphFailure(
    client.api(`/me/events/${String(occurrence.id)}/attachments`).post({
      '@odata.type': '#microsoft.graph.fileAttachment',
      name: 'x.txt',
      contentBytes: 'eA==',
    }),
  );
  expect(err.statusCode).toBe(400);
});
