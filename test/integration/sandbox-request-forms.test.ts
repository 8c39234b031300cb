/**
 * The sandbox accepts what Graph accepts (issue 20, sandbox/graph/request-forms.ts), over real
 * HTTPS as any client sends it: action parameters in PascalCase (as the API description declares
 * them and Kiota SDKs send them), `delta()` and namespace-qualified operations, `items/root`,
 * `/me/drives`, links on the host the client called, and Graph's error for an unknown segment.
 */
import { request as httpsRequest } from 'node:https';
import type { Sandbox } from '../../sandbox';
import { mintToken, startTestSandbox } from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';

let sandbox: Sandbox;
let token: string;
let meganToken: string;

beforeAll(async () => {
  sandbox = await startTestSandbox();
  const scopes = ['Mail.ReadWrite', 'Mail.Send', 'Calendars.ReadWrite', 'Files.ReadWrite'];
  token = await mintToken(sandbox, ADELE, scopes);
  meganToken = await mintToken(sandbox, MEGAN, scopes);
});
afterAll(async () => await sandbox.stop());

async function graph(
  method: string,
  path: string,
  body?: unknown,
  options: { base?: string; bearer?: string } = {},
): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${options.base ?? sandbox.graphBaseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${options.bearer ?? token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Json };
}

async function inboxSubjects(bearer: string): Promise<string[]> {
  const res = await graph('GET', '/me/mailFolders/inbox/messages?$select=subject&$top=100', undefined, {
    bearer,
  });
  return (res.body.value as Json[]).map((m) => String(m.subject));
}

describe('action parameters in any case', () => {
  test('sendMail with Message and SaveToSentItems (PascalCase), also as microsoft.graph.sendMail', async () => {
    const message = (subject: string) => ({
      subject,
      body: { contentType: 'Text', content: 'hi' },
      toRecipients: [{ emailAddress: { address: MEGAN } }],
    });
    expect(
      (await graph('POST', '/me/sendMail', { Message: message('Pascal case'), SaveToSentItems: false }))
        .status,
    ).toBe(202);
    expect(
      (await graph('POST', '/me/microsoft.graph.sendMail', { message: message('Qualified name') })).status,
    ).toBe(202);
    const subjects = await inboxSubjects(meganToken);
    expect(subjects).toEqual(expect.arrayContaining(['Pascal case', 'Qualified name']));
    // SaveToSentItems: false was honoured (read under its PascalCase name).
    const sent = await graph('GET', `/me/mailFolders/sentitems/messages?$filter=subject eq 'Pascal case'`);
    expect(sent.body.value).toHaveLength(0);
  });

  test('move with DestinationId, reply with Comment, getSchedule with Schedules/StartTime/EndTime', async () => {
    const draft = await graph('POST', '/me/messages', {
      subject: 'To move',
      toRecipients: [{ emailAddress: { address: MEGAN } }],
    });
    const moved = await graph('POST', `/me/messages/${draft.body.id}/microsoft.graph.move`, {
      DestinationId: 'archive',
    });
    expect(moved.status).toBe(201);
    const archive = await graph('GET', '/me/mailFolders/archive');
    expect(moved.body.parentFolderId).toBe(archive.body.id);

    const inbox = await graph('GET', '/me/mailFolders/inbox/messages?$top=1');
    const first = (inbox.body.value as Json[])[0]!;
    expect(
      (await graph('POST', `/me/messages/${first.id}/reply`, { Comment: 'Thanks (Pascal case)' })).status,
    ).toBe(202);

    const start = new Date(Date.now() + 24 * 3600e3).toISOString().slice(0, 10);
    const schedule = await graph('POST', '/me/calendar/getSchedule', {
      Schedules: [MEGAN],
      StartTime: { dateTime: `${start}T08:00:00`, timeZone: 'UTC' },
      EndTime: { dateTime: `${start}T18:00:00`, timeZone: 'UTC' },
      AvailabilityViewInterval: 60,
    });
    expect(schedule.status).toBe(200);
    expect((schedule.body.value as Json[])[0]).toMatchObject({
      scheduleId: MEGAN,
      availabilityView: expect.any(String),
    });
    expect((schedule.body.value as Json[])[0]!.availabilityView).toHaveLength(10);
  });
});

describe('bound functions and paths', () => {
  test('delta as delta(), microsoft.graph.delta() and delta: the same rounds, links on the called form', async () => {
    for (const form of ['delta', 'delta()', 'microsoft.graph.delta()']) {
      const res = await graph('GET', `/me/mailFolders/inbox/messages/${form}?$select=subject`);
      expect(res.status).toBe(200);
      const link = String(res.body['@odata.deltaLink'] ?? res.body['@odata.nextLink']);
      expect(link.startsWith(`${sandbox.graphBaseUrl}/me/mailFolders/inbox/messages/delta?`)).toBe(true);
    }
  });

  test('items/root stands for the drive root: children, upload by path, and /drives/{id}/items/root', async () => {
    const put = await fetch(`${sandbox.graphBaseUrl}/me/drive/items/root:/Forms/hello.txt:/content`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(put.status).toBe(201);
    const children = await graph('GET', '/me/drive/items/root/children');
    expect(children.status).toBe(200);
    expect((children.body.value as Json[]).map((i) => String(i.name))).toContain('Forms');
    const root = await graph('GET', '/me/drive/items/root');
    expect(root.body.root).toEqual({});
    const drive = await graph('GET', '/me/drive');
    const byDrive = await graph('GET', `/drives/${drive.body.id}/items/root:/Forms/hello.txt`);
    expect(byDrive.body.name).toBe('hello.txt');
  });

  test('GET /me/drives and /users/{id}/drives list the OneDrive', async () => {
    const drive = await graph('GET', '/me/drive');
    const mine = await graph('GET', '/me/drives');
    expect(mine.status).toBe(200);
    expect((mine.body.value as Json[]).map((d) => String(d.id))).toEqual([drive.body.id]);
    const adeleId = sandbox.directory.findUser(ADELE)!.id;
    const theirs = await graph('GET', `/users/${adeleId}/drives`);
    expect((theirs.body.value as Json[])[0]).toMatchObject({ id: drive.body.id, driveType: 'business' });
  });

  test('a $batch item may use the qualified and parenthesised forms too', async () => {
    const res = await graph('POST', '/$batch', {
      requests: [
        { id: '1', method: 'GET', url: '/me/mailFolders/inbox/messages/microsoft.graph.delta()?$select=id' },
      ],
    });
    expect(res.status).toBe(200);
    expect((res.body.responses as Json[])[0]).toMatchObject({ id: '1', status: 200 });
  });
});

describe('links and errors as Graph has them', () => {
  test('links are on the host the client called (here localhost instead of 127.0.0.1)', async () => {
    const base = sandbox.graphBaseUrl.replace('127.0.0.1', 'localhost');
    const page = await graph('GET', '/me/messages?$top=1&$select=subject', undefined, { base });
    expect(page.status).toBe(200);
    expect(String(page.body['@odata.nextLink'])).toMatch(
      new RegExp(`^${base.replace(/[.]/g, '\\.')}/me/messages\\?`),
    );
    expect(String(page.body['@odata.context'])).toMatch(
      new RegExp(`^${base.replace(/[.]/g, '\\.')}/\\$metadata#`),
    );
    const next = await fetch(String(page.body['@odata.nextLink']), {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(next.status).toBe(200);
  });

  test("under Microsoft's own host name (a hosts entry): TLS verifies and links stay on graph.microsoft.com", async () => {
    const port = Number(new URL(sandbox.url).port);
    const body = await new Promise<Json>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port,
          servername: 'graph.microsoft.com',
          path: '/v1.0/me/messages?$top=1&$select=subject',
          headers: { host: 'graph.microsoft.com', authorization: `Bearer ${token}` },
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve(JSON.parse(text) as Json));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(String(body['@odata.nextLink'])).toMatch(
      /^https:\/\/graph\.microsoft\.com\/v1\.0\/me\/messages\?/,
    );
  });

  test('an unknown segment is 400 BadRequest naming it, as Graph answers', async () => {
    const res = await graph('GET', '/me/notAThing/really');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'BadRequest',
      message: "Resource not found for the segment 'notAThing'.",
    });
  });
});
