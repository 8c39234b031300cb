/**
 * Outlook mail actions end to end: the local host over HTTP, the real OAuth connect flow, the
 * Graph chokepoint and the sandbox's mail endpoints (graph-behaviour.md §8.1). Covers reading,
 * sending (incl. a 10 MB attachment through an upload session), Idempotency-Key, throttling and
 * 503 handling, managing messages and folders, and shared mailboxes with Send As.
 */
import { createHash, randomBytes } from 'node:crypto';
import { seedMail } from '../../sandbox/graph/mail';
import { SEED_USERS } from '../../sandbox/seed';
import { FUNCTION_KEY, startTestApp, type TestApp } from '../support/app';
import { controlCall, injectFault, requestLog } from '../support/sandbox';
import { userTableOf } from '../support/storage';

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const LEE = 'lee.gu@contoso.test';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let t: TestApp;
let adele: string;
let megan: string;

async function call(user: string, action: string, input: unknown, headers: Record<string, string> = {}) {
  const res = await t.call(user, 'POST', `/mail/${action}`, input, headers);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Json };
}

async function findBySubject(user: string, subject: string, folder = 'inbox'): Promise<Json[]> {
  const res = await call(user, 'listMessages', { folder, search: `subject:${subject}`, top: 50 });
  expect(res.status).toBe(200);
  return (res.body.items as Json[]).filter((m) => m.subject === subject);
}

const unique = (prefix: string) => `${prefix} ${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  t = await startTestApp({ sandbox: { seed: false } });
  for (const user of SEED_USERS) t.sandbox.directory.addUser({ ...user });
  seedMail(t.sandbox);
  adele = await t.connect(ADELE, { features: ['mail'] });
  megan = await t.connect(MEGAN, { features: ['mail'] });
});
afterAll(async () => await t.stop());

describe('reading', () => {
  test('listMessages: folder by name, shortcuts, chosen fields and cursor paging', async () => {
    const inbox = await call(adele, 'listMessages', { folder: 'inbox' });
    expect(inbox.status).toBe(200);
    expect((inbox.body.items as Json[]).map((m) => String(m.subject))).toEqual([
      'Q3 marketing plan for review',
      'Build pipeline is green again',
      'Fabrikam monthly digest',
    ]);
    const unread = await call(adele, 'listMessages', {
      folder: 'inbox',
      unread: true,
      fields: ['subject', 'isRead'],
    });
    expect(unread.body.items).toEqual([
      { id: expect.any(String), subject: 'Q3 marketing plan for review', isRead: false },
    ]);
    const fromLee = await call(adele, 'listMessages', { from: LEE });
    expect((fromLee.body.items as Json[]).map((m) => String(m.subject))).toEqual([
      'Build pipeline is green again',
    ]);
    const withFiles = await call(adele, 'listMessages', {
      hasAttachments: true,
      importance: 'high',
      category: 'Red category',
    });
    expect(withFiles.body.items).toHaveLength(1);
    const recent = await call(adele, 'listMessages', {
      folder: 'inbox',
      since: new Date(Date.now() - 24 * 3600e3).toISOString(),
    });
    expect(recent.body.items).toHaveLength(2);

    const first = await call(adele, 'listMessages', { folder: 'inbox', top: 2, fields: ['subject'] });
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await call(adele, 'listMessages', { cursor: first.body.nextCursor, fields: ['subject'] });
    expect((second.body.items as Json[]).map((m) => String(m.subject))).toEqual(['Fabrikam monthly digest']);
    expect(second.body.nextCursor).toBeUndefined();
  });

  test('listMessages: full-text search; bad input and an unknown folder are clear problems', async () => {
    const found = await call(adele, 'listMessages', { search: 'pipeline' });
    expect((found.body.items as Json[]).map((m) => String(m.subject))).toEqual([
      'Build pipeline is green again',
    ]);
    const both = await call(adele, 'listMessages', { search: 'x', unread: true });
    expect(both.status).toBe(400);
    expect(both.body.errors).toEqual([expect.objectContaining({ field: 'search' })]);
    const badType = await call(adele, 'listMessages', { top: 1000 });
    expect(badType.status).toBe(400);
    const noFolder = await call(adele, 'listMessages', { folder: 'AAMkAGnope' });
    expect(noFolder.status).toBe(404);
    expect(noFolder.body.code).toBe('not_found');
  });

  test('getMessage: text body by default, HTML on request, headers, attachments; download streams the bytes', async () => {
    const [plan] = await findBySubject(adele, 'Q3 marketing plan for review');
    const msg = await call(adele, 'getMessage', { id: plan!.id, includeHeaders: true });
    expect(msg.status).toBe(200);
    expect(msg.body.body.contentType).toBe('text');
    expect(msg.body.body.content).toContain('Could you review the launch dates');
    expect(msg.body.body.content).not.toContain('<p>');
    expect(msg.body.headers).toEqual(expect.any(Array));
    expect(msg.body.attachments).toEqual([
      {
        id: expect.any(String),
        name: 'Q3-plan.txt',
        contentType: 'text/plain',
        size: expect.any(Number),
        isInline: false,
        kind: 'fileAttachment',
      },
    ]);
    const html = await call(adele, 'getMessage', {
      id: plan!.id,
      bodyType: 'html',
      includeAttachments: false,
    });
    expect(html.body.body.content).toContain('<p>');
    expect(html.body.attachments).toBeUndefined();

    const list = await call(adele, 'listAttachments', { messageId: plan!.id });
    expect(list.body.items).toEqual(msg.body.attachments);
    const att = msg.body.attachments[0] as Json;
    const dl = await t.call(
      adele,
      'GET',
      `/mail/downloadAttachment?messageId=${encodeURIComponent(plan!.id)}&attachmentId=${encodeURIComponent(att.id)}`,
    );
    expect(dl.status).toBe(200);
    expect(dl.headers.get('content-type')).toBe('text/plain');
    expect(dl.headers.get('content-disposition')).toContain('Q3-plan.txt');
    expect(await dl.text()).toContain('August: launch');

    const missing = await call(adele, 'getMessage', { id: `AAMkAG${'z'.repeat(40)}` });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('not_found');
  });

  test('listFolders: top-level folders with counts and child folders', async () => {
    const parent = await call(adele, 'createFolder', { name: unique('Clients') });
    expect(parent.status).toBe(201);
    const child = await call(adele, 'createFolder', { name: 'Contoso', parentFolder: parent.body.id });
    expect(child.status).toBe(201);
    const folders = await call(adele, 'listFolders', {});
    expect(folders.status).toBe(200);
    const inbox = (folders.body.items as Json[]).find((f) => f.name === 'Inbox')!;
    expect(inbox).toMatchObject({ unreadCount: 1, totalCount: 3, childCount: 0 });
    const created = (folders.body.items as Json[]).find((f) => f.id === parent.body.id)!;
    expect(created.children).toEqual([
      expect.objectContaining({ id: child.body.id, name: 'Contoso', parentId: parent.body.id }),
    ]);
  });
});

describe('sending', () => {
  test('sendMessage delivers to/cc, hides bcc, keeps HTML, importance, reply-to and a small attachment', async () => {
    const subject = unique('Launch');
    const res = await call(adele, 'sendMessage', {
      to: [{ address: MEGAN, name: 'Megan' }],
      bcc: [LEE],
      subject,
      body: '<p>Launch is <b>go</b></p>',
      bodyType: 'html',
      importance: 'high',
      replyTo: ['pm-team@contoso.test'],
      attachments: [
        {
          name: 'notes.txt',
          contentType: 'text/plain',
          contentBytes: Buffer.from('hello').toString('base64'),
        },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sent: true, method: 'sendMail' });
    const [got] = await findBySubject(megan, subject);
    expect(got).toMatchObject({
      importance: 'high',
      hasAttachments: true,
      bcc: [],
      replyTo: [{ name: 'pm-team@contoso.test', address: 'pm-team@contoso.test' }],
    });
    const full = await call(megan, 'getMessage', { id: got!.id, bodyType: 'html' });
    expect(full.body.body.content).toContain('<b>go</b>');
    expect(await findBySubject(adele, subject, 'sentitems')).toHaveLength(1);
    const none = await call(adele, 'sendMessage', { subject: 'nobody' });
    expect(none.status).toBe(400);
    expect(none.body.errors).toEqual([expect.objectContaining({ field: 'to' })]);
  });

  test('a readable body keeps where links point, headings and list items; scripts and images go', async () => {
    const subject = unique('Readable');
    const html =
      '<h2>Agenda</h2><ul><li>Budget</li><li>Hiring</li></ul><p>Details in <a href="https://contoso.test/plan">the plan</a>.</p><img src="https://tracker.example/p.gif"><script>alert(1)</script>';
    expect(
      (await call(adele, 'sendMessage', { to: [MEGAN], subject, body: html, bodyType: 'html' })).status,
    ).toBe(200);
    const [got] = await findBySubject(megan, subject);
    const readable = await call(megan, 'getMessage', { id: got!.id, bodyType: 'readable' });
    expect(readable.status).toBe(200);
    const body = readable.body.body as { contentType: string; content: string };
    expect(body.contentType).toBe('readable');
    expect(body.content).toContain('## Agenda');
    expect(body.content).toMatch(/\* Budget\s+\* Hiring/);
    expect(body.content).toContain('the plan [https://contoso.test/plan]');
    expect(body.content).not.toContain('alert');
    expect(body.content).not.toContain('tracker.example');
  });

  test('sending twice with one Idempotency-Key delivers one message and replays the first result', async () => {
    const subject = unique('Once');
    const key = `k-${randomBytes(6).toString('hex')}`;
    const since = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;
    const input = { to: [MEGAN], subject, body: 'only once' };
    const first = await call(adele, 'sendMessage', input, { 'idempotency-key': key });
    const second = await call(adele, 'sendMessage', input, { 'idempotency-key': key });
    expect(first.status).toBe(200);
    expect(second).toEqual(first);
    expect(await findBySubject(megan, subject)).toHaveLength(1);
    const posts = (await requestLog(t.sandbox, since)).filter(
      (e) => e.method === 'POST' && e.path.endsWith('/sendMail'),
    );
    expect(posts).toHaveLength(1);
  });

  test('a 10 MB attachment goes through an upload session on a draft and arrives with the same bytes', async () => {
    // §8.1 large attachments (outlook-large-attachments.md): session, ranges < 4 MB, final 201.
    const subject = unique('Big file');
    const draft = await call(adele, 'createDraft', { to: [MEGAN], subject, body: 'see attached' });
    expect(draft.status).toBe(201);
    const bytes = randomBytes(10 * 1024 * 1024);
    const since = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;
    const upload = await fetch(
      `${t.api}/mail/addAttachment?messageId=${encodeURIComponent(draft.body.id)}&name=big.bin&contentType=application%2Foctet-stream`,
      {
        method: 'POST',
        headers: {
          'x-functions-key': FUNCTION_KEY,
          authorization: `Bearer ${await t.tokenFor(adele)}`,
          'content-type': 'application/octet-stream',
        },
        body: bytes,
      },
    );
    expect(upload.status).toBe(201);
    expect(await upload.json()).toEqual({
      attachmentId: expect.any(String),
      size: bytes.length,
      method: 'uploadSession',
    });
    const log = await requestLog(t.sandbox, since);
    expect(log.filter((e) => e.path.endsWith('/createUploadSession'))).toHaveLength(1);
    const puts = log.filter((e) => e.method === 'PUT' && e.path.includes('/AttachmentSessions('));
    expect(puts.length).toBe(3);
    expect(puts.every((e) => e.status === 200 || e.status === 201)).toBe(true);

    const key = `k-${randomBytes(6).toString('hex')}`;
    const sent = await call(adele, 'sendDraft', { id: draft.body.id }, { 'idempotency-key': key });
    expect(sent.body).toEqual({ sent: true, messageId: draft.body.id });
    const [got] = await findBySubject(megan, subject);
    const atts = await call(megan, 'listAttachments', { messageId: got!.id });
    expect(atts.body.items).toEqual([expect.objectContaining({ name: 'big.bin', size: bytes.length })]);
    const dl = await t.call(
      megan,
      'GET',
      `/mail/downloadAttachment?messageId=${encodeURIComponent(got!.id)}&attachmentId=${encodeURIComponent(atts.body.items[0].id)}`,
    );
    expect(Buffer.from(await dl.arrayBuffer()).equals(bytes)).toBe(true);
  });

  test('sendMessage with a 5 MB base64 attachment goes through a draft and an upload session, intact', async () => {
    // The request-size limit (4 MB per Graph request, §8.1) is handled inside the action.
    const subject = unique('Inline big');
    const bytes = randomBytes(5 * 1024 * 1024);
    const since = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;
    const sent = await call(
      adele,
      'sendMessage',
      {
        to: [MEGAN],
        subject,
        body: 'big one',
        attachments: [{ name: 'five.bin', contentBytes: bytes.toString('base64') }],
      },
      { 'idempotency-key': `k-${randomBytes(6).toString('hex')}` },
    );
    expect(sent.status).toBe(200);
    const log = await requestLog(t.sandbox, since);
    expect(log.filter((e) => e.path.endsWith('/createUploadSession'))).toHaveLength(1);
    expect(log.filter((e) => e.path.endsWith('/sendMail'))).toHaveLength(0);
    const [got] = await findBySubject(megan, subject);
    const atts = await call(megan, 'listAttachments', { messageId: got!.id });
    const dl = await t.call(
      megan,
      'GET',
      `/mail/downloadAttachment?messageId=${encodeURIComponent(got!.id)}&attachmentId=${encodeURIComponent(atts.body.items[0].id)}`,
    );
    expect(Buffer.from(await dl.arrayBuffer()).equals(bytes)).toBe(true);
  });

  test('drafts: update, small attachment inline, send', async () => {
    const subject = unique('Draft');
    const draft = await call(adele, 'createDraft', { subject: 'tbd' });
    const updated = await call(adele, 'updateDraft', {
      id: draft.body.id,
      subject,
      to: [MEGAN],
      body: 'final text',
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ subject, isDraft: true, to: [{ address: MEGAN }] });
    const small = await fetch(
      `${t.api}/mail/addAttachment?messageId=${encodeURIComponent(draft.body.id)}&name=a.txt`,
      {
        method: 'POST',
        headers: { 'x-functions-key': FUNCTION_KEY, authorization: `Bearer ${await t.tokenFor(adele)}` },
        body: 'small file',
      },
    );
    expect(await small.json()).toEqual({ attachmentId: expect.any(String), size: 10, method: 'inline' });
    expect((await call(adele, 'sendDraft', { id: draft.body.id })).status).toBe(200);
    const [got] = await findBySubject(megan, subject);
    expect(got!.hasAttachments).toBe(true);
    const empty = await call(adele, 'updateDraft', { id: draft.body.id });
    expect(empty.status).toBe(400);
  });

  test('reply with a comment, reply-all with a full body, forward; comment and body together is bad input', async () => {
    const subject = unique('Question');
    await call(megan, 'sendMessage', { to: [ADELE], cc: [LEE], subject, body: 'What is the answer?' });
    const [original] = await findBySubject(adele, subject);
    expect(
      (await call(adele, 'replyToMessage', { messageId: original!.id, comment: 'x', body: 'y' })).status,
    ).toBe(400);
    expect((await call(adele, 'replyToMessage', { messageId: original!.id, comment: '42' })).body).toEqual({
      sent: true,
    });
    const replies = await findBySubject(megan, `RE: ${subject}`);
    expect(replies).toHaveLength(1);
    const all = await call(adele, 'replyToMessage', {
      messageId: original!.id,
      replyAll: true,
      body: 'Full answer: 42',
    });
    expect(all.body.sent).toBe(true);
    const replyAll = (await findBySubject(megan, `RE: ${subject}`)).find((m) => m.id !== replies[0]!.id)!;
    expect(replyAll.cc).toEqual([expect.objectContaining({ address: LEE })]);
    expect((await call(megan, 'getMessage', { id: replyAll.id })).body.body.content).toBe('Full answer: 42');
    const fw = await call(adele, 'forwardMessage', { messageId: original!.id, to: [MEGAN], comment: 'FYI' });
    expect(fw.body).toEqual({ sent: true });
    expect(await findBySubject(megan, `FW: ${subject}`)).toHaveLength(1);
  });

  test('a throttled send succeeds after Retry-After; a 503 is outcome unknown and is not resent', async () => {
    const user = t.sandbox.directory.findUser(ADELE)!;
    await injectFault(t.sandbox, {
      method: 'POST',
      path: '/sendMail$',
      userId: user.id,
      status: 429,
      headers: { 'retry-after': '1' },
    });
    let since = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;
    const subject = unique('Throttled');
    const ok = await call(adele, 'sendMessage', { to: [MEGAN], subject, body: 'x' });
    expect(ok.status).toBe(200);
    let posts = (await requestLog(t.sandbox, since)).filter((e) => e.path.endsWith('/sendMail'));
    expect(posts.map((e) => e.status)).toEqual([429, 202]);
    expect(posts[1]!.startedAt - posts[0]!.endedAt!).toBeGreaterThanOrEqual(1000);
    expect(await findBySubject(megan, subject)).toHaveLength(1);

    await injectFault(t.sandbox, { method: 'POST', path: '/sendMail$', userId: user.id, status: 503 });
    since = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;
    const key = { 'idempotency-key': `k-${randomBytes(6).toString('hex')}` };
    const input = { to: [MEGAN], subject: unique('Unknown'), body: 'x' };
    const failed = await call(adele, 'sendMessage', input, key);
    expect(failed.status).toBe(502);
    expect(failed.body).toMatchObject({
      code: 'outcome_unknown',
      outcomeUnknown: true,
      check: { folder: 'sentitems', internetMessageId: expect.stringMatching(/^<[0-9a-f]{40}@/) },
    });
    // Repeating with the same key neither resends nor pretends: Sent Items has no such message
    // yet, but a send may still be in flight, so it says the outcome is unknown and when to ask.
    const again = await call(adele, 'sendMessage', input, key);
    expect(again.status).toBe(502);
    expect(again.body).toMatchObject({ code: 'outcome_unknown', retryAfter: expect.any(Number) });
    expect(again.body.detail).toContain('same Idempotency-Key');
    posts = (await requestLog(t.sandbox, since)).filter((e) => e.path.endsWith('/sendMail'));
    expect(posts).toHaveLength(1);
  });
});

describe('Idempotency-Key', () => {
  function idempotencyRow(userId: string, key: string) {
    const client = userTableOf(t, 'idempotency', userId);
    const rowKey = createHash('sha256').update(`mail.sendMessage|${key}`).digest('hex');
    return {
      get: async () => await client.getEntity<Record<string, unknown>>(userId, rowKey),
      set: async (fields: Record<string, unknown>) =>
        await client.updateEntity({ partitionKey: userId, rowKey, ...fields }, 'Merge'),
    };
  }
  const sendPosts = async (since: number) =>
    (await requestLog(t.sandbox, since)).filter((e) => e.path.endsWith('/sendMail'));

  test('a key reused with a different body is refused (422) and sends nothing', async () => {
    const key = { 'idempotency-key': `k-${randomBytes(6).toString('hex')}` };
    const first = { to: [MEGAN], subject: unique('Keyed'), body: 'first' };
    expect((await call(adele, 'sendMessage', first, key)).status).toBe(200);
    const since = t.sandbox.log.lastSeq;
    const second = await call(adele, 'sendMessage', { ...first, body: 'second' }, key);
    expect(second.status).toBe(422);
    expect(second.body.code).toBe('idempotency_key_reused');
    // It names the field that differs, never its value.
    expect(second.body.fields).toEqual(['body']);
    expect(JSON.stringify(second.body)).not.toContain('second');
    // The same body again is a replay; key order in the JSON does not matter.
    const replay = await call(
      adele,
      'sendMessage',
      { body: 'first', subject: first.subject, to: [MEGAN] },
      key,
    );
    expect(replay.status).toBe(200);
    expect(await sendPosts(since)).toHaveLength(0);
    expect(await findBySubject(megan, first.subject)).toHaveLength(1);
  });

  test('a worker that died after Graph accepted the send: the repeat finds it in Sent Items and does not resend', async () => {
    const key = `k-${randomBytes(6).toString('hex')}`;
    const input = { to: [MEGAN], subject: unique('Crashed'), body: 'x' };
    expect((await call(adele, 'sendMessage', input, { 'idempotency-key': key })).status).toBe(200);
    // As a kill -9 between Graph's 202 and the result being stored leaves it: pending.
    const row = idempotencyRow(adele, key);
    await row.set({ state: 'pending', at: new Date().toISOString(), status: 0, body: '' });
    const early = await call(adele, 'sendMessage', input, { 'idempotency-key': key });
    expect(early.status).toBe(409); // still within the lease: it may be running
    await row.set({ at: new Date(Date.now() - 6 * 60_000).toISOString() });
    const since = t.sandbox.log.lastSeq;
    const resolved = await call(adele, 'sendMessage', input, { 'idempotency-key': key });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ sent: true, method: 'recovered' });
    expect(await sendPosts(since)).toHaveLength(0);
    expect(await findBySubject(megan, input.subject)).toHaveLength(1);
    expect((await row.get()).state).toBe('done');
  });

  test('a send that verifiably did not happen is sent once after the lease, never twice', async () => {
    const user = t.sandbox.directory.findUser(ADELE)!;
    const key = `k-${randomBytes(6).toString('hex')}`;
    const input = { to: [MEGAN], subject: unique('Lost'), body: 'x' };
    await injectFault(t.sandbox, { method: 'POST', path: '/sendMail$', userId: user.id, status: 503 });
    expect((await call(adele, 'sendMessage', input, { 'idempotency-key': key })).status).toBe(502);
    await idempotencyRow(adele, key).set({ at: new Date(Date.now() - 6 * 60_000).toISOString() });
    const since = t.sandbox.log.lastSeq;
    const sent = await call(adele, 'sendMessage', input, { 'idempotency-key': key });
    expect(sent.status).toBe(200);
    const replay = await call(adele, 'sendMessage', input, { 'idempotency-key': key });
    expect(replay.status).toBe(200);
    expect(await sendPosts(since)).toHaveLength(1);
    expect(await findBySubject(megan, input.subject)).toHaveLength(1);
  });
});

describe('managing', () => {
  test('mark read, flag, categories; move keeps the immutable id; copy; delete to Deleted Items and for good', async () => {
    const subject = unique('Manage');
    await call(megan, 'sendMessage', { to: [ADELE], subject, body: 'x' });
    const [m] = await findBySubject(adele, subject);
    const upd = await call(adele, 'updateMessage', {
      id: m!.id,
      isRead: true,
      flag: 'flagged',
      categories: ['Blue category'],
    });
    expect(upd.body).toMatchObject({ isRead: true, flag: 'flagged', categories: ['Blue category'] });
    expect((await call(adele, 'updateMessage', { id: m!.id })).status).toBe(400);
    const moved = await call(adele, 'moveMessage', { id: m!.id, destination: 'archive' });
    expect(moved.status).toBe(200);
    // ImmutableId everywhere (reference §4.2, peers.md item 12): the id survives the move.
    expect(moved.body).toMatchObject({ id: m!.id, previousId: m!.id });
    const copy = await call(adele, 'copyMessage', { id: m!.id, destination: 'inbox' });
    expect(copy.body.id).not.toBe(m!.id);
    const del = await call(adele, 'deleteMessage', { id: copy.body.id });
    expect(del.body).toMatchObject({ deleted: true, permanent: false });
    expect(await findBySubject(adele, subject, 'deleteditems')).toHaveLength(1);
    expect((await call(adele, 'deleteMessage', { id: m!.id, permanent: true })).body).toEqual({
      deleted: true,
      permanent: true,
    });
    expect((await call(adele, 'getMessage', { id: m!.id })).status).toBe(404);
    expect((await call(adele, 'moveMessage', { id: m!.id, destination: 'inbox' })).status).toBe(404);
  });

  test('folders: create, duplicate is a conflict, rename, delete; well-known folders stay', async () => {
    const name = unique('Receipts');
    const f = await call(adele, 'createFolder', { name });
    expect(f.body).toMatchObject({ name, unreadCount: 0, totalCount: 0 });
    const dup = await call(adele, 'createFolder', { name });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('conflict');
    const renamed = await call(adele, 'renameFolder', { folderId: f.body.id, name: `${name} 2024` });
    expect(renamed.body.name).toBe(`${name} 2024`);
    expect((await call(adele, 'deleteFolder', { folderId: f.body.id })).body).toEqual({ deleted: true });
    const inbox = await call(adele, 'deleteFolder', { folderId: 'inbox' });
    expect(inbox.status).toBe(400);
  });
});

describe('shared mailboxes', () => {
  let lee: string;
  let salesId: string;
  beforeAll(async () => {
    salesId = (
      await controlCall<{ id: string }>(t.sandbox, 'POST', '/users', {
        userPrincipalName: 'sales@contoso.test',
        displayName: 'Sales Team',
      })
    ).id;
    lee = await t.connect(LEE, { features: ['mail', 'mail-shared'] });
  });
  const rights = (r: { fullAccess: boolean; sendAs: boolean; sendOnBehalf: boolean } | undefined) => {
    t.sandbox.directory.findUser(LEE)!.mailboxRights = r ? { [salesId]: r } : {};
  };

  test('a mailbox input needs the mail-shared feature', async () => {
    const res = await call(megan, 'listMessages', { mailbox: 'sales@contoso.test' });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('feature_not_granted');
    expect(res.body.feature).toBe('mail-shared');
  });

  test('without Full Access the mailbox is forbidden and the problem names the permission', async () => {
    rights(undefined);
    const res = await call(lee, 'listMessages', { mailbox: 'sales@contoso.test' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'forbidden', permission: 'FullAccess' });
  });

  test('with Full Access but no Send As, sending from the mailbox is forbidden naming SendAs; with Send As it works', async () => {
    rights({ fullAccess: true, sendAs: false, sendOnBehalf: false });
    expect((await call(lee, 'listFolders', { mailbox: 'sales@contoso.test', depth: 0 })).status).toBe(200);
    const subject = unique('From sales');
    const denied = await call(lee, 'sendMessage', {
      mailbox: 'sales@contoso.test',
      to: [MEGAN],
      subject,
      body: 'x',
    });
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({
      code: 'forbidden',
      permission: 'SendAs',
      graphCode: 'ErrorSendAsDenied',
    });
    const fromDenied = await call(lee, 'sendMessage', {
      from: 'sales@contoso.test',
      to: [MEGAN],
      subject,
      body: 'x',
    });
    expect(fromDenied.status).toBe(403);

    rights({ fullAccess: true, sendAs: true, sendOnBehalf: false });
    const ok = await call(lee, 'sendMessage', {
      mailbox: 'sales@contoso.test',
      to: [MEGAN],
      subject,
      body: 'x',
    });
    expect(ok.status).toBe(200);
    const [got] = await findBySubject(megan, subject);
    expect(got).toMatchObject({
      from: { address: 'sales@contoso.test' },
      sender: { address: 'sales@contoso.test' },
    });
    expect(await findBySubject(lee, subject, 'sentitems')).toHaveLength(0);
    const salesSent = await call(lee, 'listMessages', { mailbox: 'sales@contoso.test', folder: 'sentitems' });
    expect((salesSent.body.items as Json[]).some((m) => m.subject === subject)).toBe(true);

    rights({ fullAccess: false, sendAs: false, sendOnBehalf: true });
    const behalfSubject = unique('On behalf');
    const behalf = await call(lee, 'sendMessage', {
      from: 'sales@contoso.test',
      to: [MEGAN],
      subject: behalfSubject,
      body: 'x',
    });
    expect(behalf.status).toBe(200);
    const [b] = await findBySubject(megan, behalfSubject);
    expect(b).toMatchObject({ from: { address: 'sales@contoso.test' }, sender: { address: LEE } });
    rights(undefined);
  });
});
