/**
 * The sandbox's Outlook mail endpoints against graph-behaviour.md §8.1 (+ §4, §5): folders,
 * listing with OData options, send / reply / forward (202, Sent Items, delivery), attachments and
 * upload sessions, moves and ImmutableId, per-folder delta, shared mailboxes and Send As.
 * Raw HTTPS with tokens from POST /_sandbox/tokens; the upload session also through the real
 * Graph SDK's LargeFileUploadTask.
 */
import { randomBytes } from 'node:crypto';
import { Client, FileUpload, LargeFileUploadTask } from '@microsoft/microsoft-graph-client';
import type { Sandbox } from '../../sandbox';
import { mailFolderId, seedMail } from '../../sandbox/graph/mail';
import { SEED_USERS } from '../../sandbox/seed';
import { controlCall, startTestSandbox, mintToken } from '../support/sandbox';

let sandbox: Sandbox;
const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const LEE = 'lee.gu@contoso.test';
const ALL = ['Mail.ReadWrite', 'Mail.Send'];

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const tokenFor = (user: string, scopes: string[] = ALL) => mintToken(sandbox, user, scopes);

async function g(
  token: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; json: Json; text: string }> {
  const res = await fetch(path.startsWith('http') ? path : `${sandbox.graphBaseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: Json = {};
  try {
    json = text ? (JSON.parse(text) as Json) : {};
  } catch {
    json = {};
  }
  return { status: res.status, headers: res.headers, json, text };
}

const to = (...addresses: string[]) => addresses.map((address) => ({ emailAddress: { address } }));

async function inbox(token: string, query = ''): Promise<Json[]> {
  return (await g(token, 'GET', `/me/mailFolders/inbox/messages?$top=100${query}`)).json.value as Json[];
}

beforeAll(async () => {
  // Only the directory and the mail seed: other services' demo data doesn't concern these tests.
  sandbox = await startTestSandbox({ seed: false });
  for (const user of SEED_USERS) sandbox.directory.addUser({ ...user });
  seedMail(sandbox);
});
afterAll(async () => await sandbox.stop());

describe('mail folders', () => {
  test('well-known names resolve, top-level folders list with counts, hidden ones on request', async () => {
    // §8.1 mailFolders: well-known names in place of ids; includeHiddenFolders.
    const token = await tokenFor(ADELE);
    const list = await g(token, 'GET', '/me/mailFolders?$top=50');
    expect(list.status).toBe(200);
    const names = (list.json.value as Json[]).map((f) => String(f.displayName));
    expect(names).toEqual(expect.arrayContaining(['Inbox', 'Drafts', 'Sent Items', 'Deleted Items']));
    const inboxFolder = (list.json.value as Json[]).find((f) => f.displayName === 'Inbox')!;
    expect(inboxFolder).toMatchObject({ totalItemCount: 3, unreadItemCount: 1, childFolderCount: 0 });
    const byName = await g(token, 'GET', '/me/mailFolders/Inbox');
    expect(byName.json.id).toBe(inboxFolder.id);
    const unknown = await g(token, 'GET', '/me/mailFolders/AAMkAGnotAFolder');
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('ErrorItemNotFound');
  });

  test('create, duplicate (409 ErrorFolderExists), child folders, rename and delete', async () => {
    const token = await tokenFor(ADELE);
    const created = await g(token, 'POST', '/me/mailFolders', { displayName: 'Projects' });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ displayName: 'Projects', childFolderCount: 0, totalItemCount: 0 });
    const dup = await g(token, 'POST', '/me/mailFolders', { displayName: 'projects' });
    expect(dup.status).toBe(409);
    expect(dup.json.error.code).toBe('ErrorFolderExists');
    const child = await g(token, 'POST', `/me/mailFolders/${created.json.id}/childFolders`, {
      displayName: 'Apollo',
    });
    expect(child.status).toBe(201);
    expect(child.json.parentFolderId).toBe(created.json.id);
    const parent = await g(token, 'GET', `/me/mailFolders/${created.json.id}`);
    expect(parent.json.childFolderCount).toBe(1);
    const renamed = await g(token, 'PATCH', `/me/mailFolders/${child.json.id}`, { displayName: 'Apollo 2' });
    expect(renamed.status).toBe(200);
    expect(renamed.json.displayName).toBe('Apollo 2');
    const wk = await g(token, 'DELETE', '/me/mailFolders/inbox');
    expect(wk.status).toBe(400);
    expect(wk.json.error.code).toBe('ErrorDeleteDistinguishedFolder');
    expect((await g(token, 'DELETE', `/me/mailFolders/${created.json.id}`)).status).toBe(204);
    expect((await g(token, 'GET', `/me/mailFolders/${child.json.id}`)).status).toBe(404);
  });
});

describe('reading messages', () => {
  test('pages of 10 with an absolute $skip nextLink, $filter, $select and InefficientFilter', async () => {
    // §4.1/§4.2 (user-list-messages.md): default page 10, $skip paging, $filter/$orderby rule.
    const token = await tokenFor(LEE);
    for (let i = 0; i < 12; i++) {
      const r = await g(token, 'POST', '/me/mailFolders/inbox/messages', {
        subject: `Report ${i}`,
        importance: i % 2 ? 'high' : 'normal',
      });
      expect(r.status).toBe(201);
    }
    const first = await g(token, 'GET', '/me/mailFolders/inbox/messages');
    expect(first.json.value).toHaveLength(10);
    expect(first.json['@odata.nextLink']).toMatch(/^https:\/\/.*\$skip=10/);
    const second = await g(token, 'GET', first.json['@odata.nextLink'] as string);
    expect(second.json.value).toHaveLength(3);
    const high = await g(
      token,
      'GET',
      "/me/messages?$filter=importance eq 'high'&$select=subject,importance&$top=50",
    );
    expect((high.json.value as Json[]).every((m) => m.importance === 'high' && m.body === undefined)).toBe(
      true,
    );
    expect(high.json.value.length).toBeGreaterThanOrEqual(6);
    const bad = await g(
      token,
      'GET',
      "/me/messages?$filter=importance eq 'high'&$orderby=receivedDateTime desc",
    );
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('InefficientFilter');
  });

  test('$search uses KQL terms and refuses $filter alongside', async () => {
    // §4.2 (search-query-parameter.md).
    const token = await tokenFor(ADELE);
    const fromMegan = await g(token, 'GET', '/me/messages?$search="from:megan"');
    expect((fromMegan.json.value as Json[]).map((m) => String(m.subject))).toContain(
      'Q3 marketing plan for review',
    );
    expect((fromMegan.json.value as Json[]).every((m) => /megan/i.test(JSON.stringify(m.from)))).toBe(true);
    const plain = await g(token, 'GET', '/me/messages?$search="pipeline"');
    expect((plain.json.value as Json[]).map((m) => String(m.subject))).toEqual([
      'Build pipeline is green again',
    ]);
    const both = await g(token, 'GET', '/me/messages?$search="pipeline"&$filter=isRead eq false');
    expect(both.status).toBe(400);
  });

  test('get: HTML by default, text on Prefer, headers only via $select, attachments via $expand, 404 unknown', async () => {
    // §8.1 message resource: body HTML by default; internetMessageHeaders only through $select.
    const token = await tokenFor(ADELE);
    const [plan] = (await g(token, 'GET', "/me/messages?$filter=subject eq 'Q3 marketing plan for review'"))
      .json.value as Json[];
    const html = await g(token, 'GET', `/me/messages/${plan!.id}`);
    expect(html.json.body.contentType).toBe('html');
    expect(html.json.internetMessageHeaders).toBeUndefined();
    expect(html.json.hasAttachments).toBe(true);
    const text = await g(token, 'GET', `/me/messages/${plan!.id}`, undefined, {
      prefer: 'outlook.body-content-type="text"',
    });
    expect(text.json.body).toEqual({
      contentType: 'text',
      content: expect.stringContaining('Attached is the draft'),
    });
    expect(text.headers.get('preference-applied')).toContain('outlook.body-content-type="text"');
    const expanded = await g(token, 'GET', `/me/messages/${plan!.id}?$expand=attachments($select=name,size)`);
    expect(expanded.json.attachments).toEqual([
      expect.objectContaining({ name: 'Q3-plan.txt', size: expect.any(Number) }),
    ]);
    expect(expanded.json.attachments[0].contentBytes).toBeUndefined();
    const value = await fetch(
      `${sandbox.graphBaseUrl}/me/messages/${plan!.id}/attachments/${expanded.json.attachments[0].id}/$value`,
      {
        headers: { authorization: `Bearer ${token}` },
      },
    );
    expect(await value.text()).toContain('August: launch');
    const missing = await g(token, 'GET', `/me/messages/AAMkAG${'x'.repeat(40)}`);
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('ErrorItemNotFound');
    const readOnly = await g(await tokenFor(ADELE, ['User.Read']), 'GET', `/me/messages/${plan!.id}`);
    expect(readOnly.status).toBe(403);
    expect(readOnly.json.error.message).toContain('Mail.Read');
  });
});

describe('sending', () => {
  test('sendMail answers 202 with no body; Sent Items keeps a copy; the recipient receives it without bcc', async () => {
    // §8.1 sendMail (user-sendmail.md): 202 Accepted, empty body; saved to Sent Items.
    const adele = await tokenFor(ADELE);
    const megan = await tokenFor(MEGAN);
    const subject = `Hello ${randomBytes(4).toString('hex')}`;
    const sent = await g(adele, 'POST', '/me/sendMail', {
      message: {
        subject,
        body: { contentType: 'text', content: 'Hi Megan' },
        toRecipients: to(MEGAN),
        bccRecipients: to(LEE),
        internetMessageHeaders: [{ name: 'x-trace', value: 'abc' }],
      },
    });
    expect(sent.status).toBe(202);
    expect(sent.text).toBe('');
    const sentItems = (
      await g(adele, 'GET', `/me/mailFolders/sentitems/messages?$filter=subject eq '${subject}'`)
    ).json.value as Json[];
    expect(sentItems).toHaveLength(1);
    expect(sentItems[0]!.isDraft).toBe(false);
    const received = (await inbox(megan)).find((m) => m.subject === subject)!;
    expect(received).toMatchObject({
      isRead: false,
      bccRecipients: [],
      from: { emailAddress: { address: ADELE } },
    });
    const headers = await g(megan, 'GET', `/me/messages/${received.id}?$select=internetMessageHeaders`);
    expect(headers.json.internetMessageHeaders).toEqual(
      expect.arrayContaining([{ name: 'x-trace', value: 'abc' }]),
    );
    expect((await inbox(await tokenFor(LEE))).some((m) => m.subject === subject)).toBe(true);
  });

  test('bad input: no recipients, a bad header name, an unknown property, and a request over 4 MB (413)', async () => {
    const adele = await tokenFor(ADELE);
    const none = await g(adele, 'POST', '/me/sendMail', { message: { subject: 'x' } });
    expect(none.status).toBe(400);
    expect(none.json.error.code).toBe('ErrorInvalidRecipients');
    const header = await g(adele, 'POST', '/me/sendMail', {
      message: {
        subject: 'x',
        toRecipients: to(MEGAN),
        internetMessageHeaders: [{ name: 'Trace', value: '1' }],
      },
    });
    expect(header.status).toBe(400);
    const unknown = await g(adele, 'POST', '/me/sendMail', {
      message: { subjet: 'typo', toRecipients: to(MEGAN) },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.code).toBe('RequestBodyRead');
    // peers.md item 8 (python-o365#509, microsoft-graph-docs#4370): 413 above 4 MB.
    const big = await g(adele, 'POST', '/me/sendMail', {
      message: {
        subject: 'big',
        toRecipients: to(MEGAN),
        attachments: [
          {
            '@odata.type': '#microsoft.graph.fileAttachment',
            name: 'big.bin',
            contentBytes: randomBytes(3_500_000).toString('base64'),
          },
        ],
      },
    });
    expect(big.status).toBe(413);
  });

  test('reply goes to the sender, reply-all to everyone else, forward needs recipients; comment + body is 400', async () => {
    // §8.1 reply/replyAll/forward (message-reply.md): 202; comment and message.body together → 400.
    const megan = await tokenFor(MEGAN);
    const adele = await tokenFor(ADELE);
    const subject = `Thread ${randomBytes(3).toString('hex')}`;
    await g(megan, 'POST', '/me/sendMail', {
      message: {
        subject,
        toRecipients: to(ADELE),
        ccRecipients: to(LEE),
        body: { contentType: 'text', content: 'Q?' },
      },
    });
    const original = (await inbox(adele)).find((m) => m.subject === subject)!;
    const both = await g(adele, 'POST', `/me/messages/${original.id}/reply`, {
      comment: 'x',
      message: { body: { contentType: 'text', content: 'y' } },
    });
    expect(both.status).toBe(400);
    const reply = await g(adele, 'POST', `/me/messages/${original.id}/replyAll`, { comment: 'Answer: 42' });
    expect(reply.status).toBe(202);
    const got = (await inbox(megan)).find((m) => m.subject === `RE: ${subject}`)!;
    expect(got.conversationId).toBe(original.conversationId);
    expect(got.ccRecipients).toEqual([
      expect.objectContaining({ emailAddress: expect.objectContaining({ address: LEE }) }),
    ]);
    expect((await inbox(await tokenFor(LEE))).some((m) => m.subject === `RE: ${subject}`)).toBe(true);
    const fwNone = await g(adele, 'POST', `/me/messages/${original.id}/forward`, { comment: 'fyi' });
    expect(fwNone.status).toBe(400);
    const draft = await g(adele, 'POST', `/me/messages/${original.id}/createForward`, {});
    expect(draft.status).toBe(201);
    expect(draft.json).toMatchObject({ isDraft: true, subject: `FW: ${subject}` });
  });

  test('drafts: create, update, send (202) moves the draft to Sent Items; sent messages refuse draft-only edits', async () => {
    const adele = await tokenFor(ADELE);
    const draft = await g(adele, 'POST', '/me/messages', { subject: 'Draft 1', toRecipients: to(MEGAN) });
    expect(draft.status).toBe(201);
    expect(draft.json.isDraft).toBe(true);
    expect(draft.json.parentFolderId).toBe(mailFolderId(sandbox, ADELE, 'drafts'));
    const patched = await g(adele, 'PATCH', `/me/messages/${draft.json.id}`, { subject: 'Draft 1b' });
    expect(patched.json.subject).toBe('Draft 1b');
    const sent = await g(adele, 'POST', `/me/messages/${draft.json.id}/send`, undefined, {
      prefer: 'IdType="ImmutableId"',
    });
    expect(sent.status).toBe(202);
    const after = await g(adele, 'GET', `/me/messages/${draft.json.id}`);
    expect(after.json).toMatchObject({
      isDraft: false,
      parentFolderId: mailFolderId(sandbox, ADELE, 'sentitems'),
    });
    const edit = await g(adele, 'PATCH', `/me/messages/${draft.json.id}`, { subject: 'changed' });
    expect(edit.status).toBe(400);
    const flag = await g(adele, 'PATCH', `/me/messages/${draft.json.id}`, {
      flag: { flagStatus: 'flagged' },
      categories: ['Blue category'],
    });
    expect(flag.json).toMatchObject({ flag: { flagStatus: 'flagged' }, categories: ['Blue category'] });
  });
});

describe('attachments and upload sessions', () => {
  test('a 10 MB file goes through an upload session in ≤4 MB ranges and arrives with the same bytes', async () => {
    // §8.1 (attachment-createuploadsession.md, outlook-large-attachments.md); §9 upload URL host.
    const adele = await tokenFor(ADELE);
    const draft = await g(adele, 'POST', '/me/messages', { subject: 'Big file', toRecipients: to(MEGAN) });
    const bytes = randomBytes(10 * 1024 * 1024);
    const session = await g(adele, 'POST', `/me/messages/${draft.json.id}/attachments/createUploadSession`, {
      AttachmentItem: { attachmentType: 'file', name: 'big.bin', size: bytes.length },
    });
    expect(session.status).toBe(201);
    expect(session.json.nextExpectedRanges).toEqual(['0-']);
    const uploadUrl = session.json.uploadUrl as string;
    expect(new URL(uploadUrl).host).not.toBe(new URL(sandbox.graphBaseUrl).host);

    const put = (start: number, end: number, headers: Record<string, string> = {}) =>
      fetch(uploadUrl, {
        method: 'PUT',
        headers: {
          'content-type': 'application/octet-stream',
          'content-range': `bytes ${start}-${end}/${bytes.length}`,
          ...headers,
        },
        body: bytes.subarray(start, end + 1),
      });
    const chunk = 4 * 1024 * 1024;
    expect((await put(chunk, 2 * chunk - 1)).status).toBe(416);
    expect((await put(0, chunk - 1, { authorization: `Bearer ${adele}` })).status).toBe(401);
    const one = await put(0, chunk - 1);
    expect(one.status).toBe(200);
    expect(((await one.json()) as Json).NextExpectedRanges).toEqual([String(chunk)]);
    expect((await put(chunk, 2 * chunk - 1)).status).toBe(200);
    const last = await put(2 * chunk, bytes.length - 1);
    expect(last.status).toBe(201);
    expect(await last.text()).toBe('');
    expect(last.headers.get('location')).toMatch(/\/Attachments\('[^']+'\)$/);

    expect((await g(adele, 'POST', `/me/messages/${draft.json.id}/send`)).status).toBe(202);
    const megan = await tokenFor(MEGAN);
    const received = (await inbox(megan)).find((m) => m.subject === 'Big file')!;
    expect(received.hasAttachments).toBe(true);
    const atts = await g(megan, 'GET', `/me/messages/${received.id}/attachments?$select=name,size`);
    expect(atts.json.value).toEqual([expect.objectContaining({ name: 'big.bin', size: bytes.length })]);
    const raw = await fetch(
      `${sandbox.graphBaseUrl}/me/messages/${received.id}/attachments/${atts.json.value[0].id}/$value`,
      { headers: { authorization: `Bearer ${megan}` } },
    );
    expect(Buffer.from(await raw.arrayBuffer()).equals(bytes)).toBe(true);
  });

  test("the Graph SDK's LargeFileUploadTask uploads to the session without a token", async () => {
    // §9: the upload URL host is not in customHosts, so the SDK sends no Authorization header.
    const adele = await tokenFor(ADELE);
    const client = Client.initWithMiddleware({
      authProvider: { getAccessToken: async () => adele },
      baseUrl: `${sandbox.url}/`,
      customHosts: new Set([sandbox.graphHost]),
    });
    const draft = await client.api('/me/messages').post({ subject: 'SDK upload' });
    const bytes = randomBytes(3 * 1024 * 1024 + 5);
    const session = await LargeFileUploadTask.createUploadSession(
      client,
      `/me/messages/${draft.id}/attachments/createUploadSession`,
      { AttachmentItem: { attachmentType: 'file', name: 'sdk.bin', size: bytes.length } },
    );
    const task = new LargeFileUploadTask(client, new FileUpload(bytes, 'sdk.bin', bytes.length), session, {
      rangeSize: 2 * 1024 * 1024,
    });
    const result = await task.upload();
    expect(result.location).toContain('/Attachments(');
    const atts = await client.api(`/me/messages/${draft.id}/attachments`).select('name,size').get();
    expect(atts.value).toEqual([expect.objectContaining({ name: 'sdk.bin', size: bytes.length })]);
  });

  test('upload sessions refuse files under 3 MB and over the tenant limit; sending over it fails', async () => {
    const adele = await tokenFor(ADELE);
    const draft = await g(adele, 'POST', '/me/messages', { subject: 'limits', toRecipients: to(MEGAN) });
    const small = await g(adele, 'POST', `/me/messages/${draft.json.id}/attachments/createUploadSession`, {
      AttachmentItem: { attachmentType: 'file', name: 's.bin', size: 1024 },
    });
    expect(small.status).toBe(400);
    expect(small.json.error.code).toBe('ErrorAttachmentSizeShouldNotBeLessThanMinimumSize');
    const huge = await g(adele, 'POST', `/me/messages/${draft.json.id}/attachments/createUploadSession`, {
      AttachmentItem: { attachmentType: 'file', name: 'h.bin', size: 36 * 1024 * 1024 },
    });
    expect(huge.status).toBe(400);
    expect(huge.json.error.code).toBe('ErrorMessageSizeExceeded');
    await controlCall(sandbox, 'PUT', '/mail/settings', { maxMessageSizeBytes: 1000 });
    try {
      const add = await g(adele, 'POST', `/me/messages/${draft.json.id}/attachments`, {
        '@odata.type': '#microsoft.graph.fileAttachment',
        name: 'a.bin',
        contentBytes: randomBytes(2000).toString('base64'),
      });
      expect(add.status).toBe(400);
      expect(add.json.error.code).toBe('ErrorMessageSizeExceeded');
    } finally {
      await controlCall(sandbox, 'PUT', '/mail/settings', { maxMessageSizeBytes: 35 * 1024 * 1024 });
    }
  });
});

describe('moves, deletes and delta', () => {
  test('move gives a new id unless ImmutableId; delta shows @removed in the source and the item in the target', async () => {
    // §8.1 move (message-move.md), §4.2 ImmutableId, §5.2 per-folder message delta.
    const megan = await tokenFor(MEGAN);
    const archive = mailFolderId(sandbox, MEGAN, 'archive');
    const start = async (folder: string) => {
      let res = await g(megan, 'GET', `/me/mailFolders/${folder}/messages/delta`);
      while (res.json['@odata.nextLink']) res = await g(megan, 'GET', res.json['@odata.nextLink'] as string);
      return res.json['@odata.deltaLink'] as string;
    };
    const inboxLink = await start('inbox');
    const archiveLink = await start('archive');
    const [first, second] = await inbox(megan);
    const moved = await g(megan, 'POST', `/me/messages/${first!.id}/move`, { destinationId: 'archive' });
    expect(moved.status).toBe(201);
    expect(moved.json.id).not.toBe(first!.id);
    expect(moved.json.parentFolderId).toBe(archive);
    expect((await g(megan, 'GET', `/me/messages/${first!.id}`)).status).toBe(404);
    const kept = await g(
      megan,
      'POST',
      `/me/messages/${second!.id}/move`,
      { destinationId: archive },
      {
        prefer: 'IdType="ImmutableId"',
      },
    );
    expect(kept.json.id).toBe(second!.id);

    const inboxChanges = (await g(megan, 'GET', inboxLink)).json.value as Json[];
    expect(inboxChanges).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: first!.id, '@removed': { reason: 'deleted' } }),
        expect.objectContaining({ id: second!.id, '@removed': { reason: 'deleted' } }),
      ]),
    );
    const archiveChanges = (await g(megan, 'GET', archiveLink)).json.value as Json[];
    expect(archiveChanges.map((m) => String(m.id)).sort()).toEqual([moved.json.id, second!.id].sort());
    expect(archiveChanges.every((m) => m['@removed'] === undefined)).toBe(true);

    const copy = await g(megan, 'POST', `/me/messages/${second!.id}/copy`, { destinationId: 'inbox' });
    expect(copy.status).toBe(201);
    expect(copy.json.id).not.toBe(second!.id);
    const badDest = await g(megan, 'POST', `/me/messages/${second!.id}/move`, { destinationId: 'nowhere' });
    expect(badDest.status).toBe(404);
  });

  test('DELETE soft-deletes out of sight; permanentDelete purges', async () => {
    const lee = await tokenFor(LEE);
    const d = await g(lee, 'POST', '/me/messages', { subject: 'to delete' });
    expect(
      (await g(lee, 'DELETE', `/me/messages/${d.json.id}`, undefined, { prefer: 'IdType="ImmutableId"' }))
        .status,
    ).toBe(204);
    const all = (await g(lee, 'GET', '/me/messages?$top=100')).json.value as Json[];
    expect(all.some((m) => m.id === d.json.id)).toBe(false);
    const trashed = await g(lee, 'GET', `/me/mailFolders/recoverableitemsdeletions/messages`);
    expect((trashed.json.value as Json[]).map((m) => String(m.id))).toContain(d.json.id);
    expect((await g(lee, 'POST', `/me/messages/${d.json.id}/permanentDelete`)).status).toBe(204);
    expect((await g(lee, 'GET', `/me/messages/${d.json.id}`)).status).toBe(404);
  });
});

describe('shared mailboxes and send as', () => {
  let shared: { id: string };
  beforeAll(async () => {
    shared = await controlCall<{ id: string }>(sandbox, 'POST', '/users', {
      userPrincipalName: 'sales@contoso.test',
      displayName: 'Sales Team',
    });
  });
  const setRights = async (
    rights: { fullAccess: boolean; sendAs: boolean; sendOnBehalf: boolean } | undefined,
  ) => {
    const lee = sandbox.directory.findUser(LEE)!;
    await controlCall(sandbox, 'PATCH', `/users/${lee.id}`, {
      mailboxRights: rights ? { [shared.id]: rights } : {},
    });
  };

  test('another mailbox needs FullAccess and the .Shared scopes; sending from it needs Send As', async () => {
    const lee = await tokenFor(LEE, ['Mail.ReadWrite.Shared', 'Mail.Send.Shared']);
    await setRights(undefined);
    const denied = await g(lee, 'GET', '/users/sales@contoso.test/messages');
    expect(denied.status).toBe(403);
    expect(denied.json.error.code).toBe('ErrorAccessDenied');
    // FullAccess alone reads but does not send as the mailbox (graph-docs-contrib#7401).
    await setRights({ fullAccess: true, sendAs: false, sendOnBehalf: false });
    expect((await g(lee, 'GET', '/users/sales@contoso.test/mailFolders/inbox/messages')).status).toBe(200);
    const noSendAs = await g(lee, 'POST', '/users/sales@contoso.test/sendMail', {
      message: { subject: 'From sales', toRecipients: to(MEGAN) },
    });
    expect(noSendAs.status).toBe(403);
    expect(noSendAs.json.error.code).toBe('ErrorSendAsDenied');
    const fromMe = await g(lee, 'POST', '/me/sendMail', {
      message: {
        subject: 'x',
        toRecipients: to(MEGAN),
        from: { emailAddress: { address: 'sales@contoso.test' } },
      },
    });
    expect(fromMe.status).toBe(403);
    expect(fromMe.json.error.code).toBe('ErrorSendAsDenied');
  });

  test('Send As sets from and sender to the mailbox; Send on Behalf keeps the user as sender', async () => {
    const lee = await tokenFor(LEE, ['Mail.ReadWrite.Shared', 'Mail.Send.Shared', 'Mail.Send']);
    const megan = await tokenFor(MEGAN);
    await setRights({ fullAccess: true, sendAs: true, sendOnBehalf: false });
    expect(
      (
        await g(lee, 'POST', '/users/sales@contoso.test/sendMail', {
          message: { subject: 'Sales as', toRecipients: to(MEGAN) },
        })
      ).status,
    ).toBe(202);
    const asMsg = (await inbox(megan)).find((m) => m.subject === 'Sales as')!;
    expect(asMsg.from.emailAddress.address).toBe('sales@contoso.test');
    expect(asMsg.sender.emailAddress.address).toBe('sales@contoso.test');
    const salesSent = await g(
      lee,
      'GET',
      "/users/sales@contoso.test/mailFolders/sentitems/messages?$filter=subject eq 'Sales as'",
    );
    expect(salesSent.json.value).toHaveLength(1);

    await setRights({ fullAccess: false, sendAs: false, sendOnBehalf: true });
    const onBehalf = await g(lee, 'POST', '/me/sendMail', {
      message: {
        subject: 'Sales behalf',
        toRecipients: to(MEGAN),
        from: { emailAddress: { address: 'sales@contoso.test' } },
      },
    });
    expect(onBehalf.status).toBe(202);
    const behalf = (await inbox(megan)).find((m) => m.subject === 'Sales behalf')!;
    expect(behalf.from.emailAddress.address).toBe('sales@contoso.test');
    expect(behalf.sender.emailAddress.address).toBe(LEE);
    await setRights(undefined);
  });
});
