/**
 * Find anything (issue 21) over HTTP through the local host, against the sandbox:
 * - search.query finds mail, an event, a file and a Teams message mentioning "Contoso budget" in
 *   one call, each in its service's own shape, with the matched words highlighted; pages by cursor;
 *   searches only what the connection consented to and says what it skipped;
 * - people.find turns "meg" into Megan with her address; people.getPresence says if she is free.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { controlCall, mintToken } from '../support/sandbox';
import { FUNCTION_KEY, startTestApp, type TestApp } from '../support/app';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const LEE = 'lee.gu@contoso.test';
let t: TestApp;
let adele: string;

async function call(userId: string, action: string, input: unknown): Promise<{ status: number; body: Json }> {
  const res = await t.call(userId, 'POST', `/${action.replace('.', '/')}`, input);
  return { status: res.status, body: (await res.json()) as Json };
}

async function graph(method: string, path: string, body?: unknown, contentType = 'application/json') {
  const token = await mintToken(t.sandbox, ADELE, [
    'Mail.ReadWrite',
    'Calendars.ReadWrite',
    'Files.ReadWrite.All',
    'Chat.ReadWrite',
  ]);
  const res = await fetch(`${t.sandbox.graphBaseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  expect(res.status).toBeLessThan(300);
  return (await res.json()) as Json;
}

beforeAll(async () => {
  t = await startTestApp();
  adele = await t.connect(ADELE, { features: ['mail', 'calendar', 'files', 'teams', 'people'] });
  // Seed one of each, all mentioning "Contoso budget" (directly in the sandbox tenant).
  await graph('POST', '/me/messages', {
    subject: 'Contoso budget for Q3',
    body: { contentType: 'text', content: 'Anna asked for the Contoso budget by Friday.' },
    toRecipients: [{ emailAddress: { address: MEGAN } }],
  });
  await graph('POST', '/me/events', {
    subject: 'Contoso budget review',
    start: { dateTime: '2030-03-04T10:00:00', timeZone: 'UTC' },
    end: { dateTime: '2030-03-04T11:00:00', timeZone: 'UTC' },
    attendees: [{ emailAddress: { address: MEGAN }, type: 'required' }],
  });
  await graph(
    'PUT',
    '/me/drive/root:/Finance/budget-notes.txt:/content',
    'Notes on the Contoso budget.',
    'text/plain',
  );
  const chats = await graph('GET', '/me/chats');
  await graph('POST', `/chats/${chats.value[0].id}/messages`, {
    body: { content: 'Where is the Contoso budget deck?' },
  });
});
afterAll(async () => await t.stop());

test('one search.query finds mail, an event, a file and a Teams message, highlighted, in their own shapes', async () => {
  const { status, body } = await call(adele, 'search.query', { query: 'contoso budget' });
  expect(status).toBe(200);
  expect(body.searched).toEqual(['mail', 'event', 'file', 'teams']);
  expect(body.skipped).toEqual([]);
  const byKind = (kind: string) => (body.items as Json[]).filter((i) => i.kind === kind);
  const mail = byKind('mail').find((i) => i.message.subject === 'Contoso budget for Q3');
  expect(mail).toBeDefined();
  expect(mail!.message).toMatchObject({ id: expect.any(String), to: [{ address: MEGAN }] });
  expect(mail!.snippet).toContain('**Contoso** **budget**');
  const event = byKind('event').find((i) => i.event.subject === 'Contoso budget review');
  // The event in calendar.getEvent's shape, read in full: attendees and the UTC instant.
  expect(event!.event).toMatchObject({
    type: 'singleInstance',
    attendees: [{ email: MEGAN }],
    start: { utc: '2030-03-04T10:00:00Z' },
  });
  const file = byKind('file').find((i) => i.file.name === 'budget-notes.txt');
  expect(file!.file).toMatchObject({ kind: 'file', path: '/Finance/budget-notes.txt' });
  expect(file!.snippet).toContain('**Contoso** **budget**');
  const teams = byKind('teams').find((i) => String(i.teamsMessage.content).includes('Contoso budget deck'));
  expect(teams!.teamsMessage).toMatchObject({ chatId: expect.any(String), from: { kind: 'user' } });
  expect(teams!.snippet).toContain('**Contoso** **budget**');

  // The same item through its own service's action has the same shape.
  const own = await call(adele, 'calendar.getEvent', { eventId: event!.event.id });
  expect(Object.keys(own.body).sort()).toEqual(Object.keys(event!.event).sort());
});

test('paging by cursor: each kind continues where it stopped, until no cursor', async () => {
  const seen = new Set<string>();
  let page = await call(adele, 'search.query', {
    query: 'contoso OR budget OR the',
    kinds: ['mail'],
    top: 1,
  });
  let pages = 0;
  while (page.status === 200) {
    pages++;
    for (const i of page.body.items as Json[]) {
      expect(seen.has(i.message.id)).toBe(false);
      seen.add(i.message.id as string);
    }
    if (!page.body.nextCursor) break;
    page = await call(adele, 'search.query', { query: 'ignored', cursor: page.body.nextCursor });
  }
  expect(page.status).toBe(200);
  expect(pages).toBeGreaterThan(1);
  expect(seen.size).toBe(pages);
  const forged = await call(adele, 'search.query', { query: 'x', cursor: 'not-a-cursor' });
  expect(forged.status).toBe(400);
  expect(forged.body.code).toBe('invalid_input');
});

test('only consented kinds are searched; naming one that is not asks for consent', async () => {
  const lee = await t.connect(LEE, { features: ['mail'] });
  const { body } = await call(lee, 'search.query', { query: 'contoso' });
  expect(body.searched).toEqual(['mail']);
  expect((body.skipped as Json[]).map((s) => s.kind as string)).toEqual(['event', 'file', 'teams']);
  const teams = await call(lee, 'search.query', { query: 'contoso', kinds: ['teams'] });
  expect(teams.status).toBe(403);
  expect(teams.body).toMatchObject({ code: 'feature_not_granted', feature: 'teams' });
  const people = await call(lee, 'people.find', { query: 'meg' });
  expect(people.body).toMatchObject({ code: 'feature_not_granted', feature: 'people' });
});

test('bad input names the field', async () => {
  for (const input of [{ query: '' }, { query: 'x', kinds: ['mailbox'] }, { query: 'x', top: 26 }, {}]) {
    const r = await call(adele, 'search.query', input);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('invalid_input');
  }
  const kql = await call(adele, 'search.query', { query: '(unclosed', kinds: ['file'] });
  expect(kql.status).toBe(400);
});

test('people.find "meg" returns Megan with her address first; getPresence says whether she is free', async () => {
  const found = await call(adele, 'people.find', { query: 'meg' });
  expect(found.status).toBe(200);
  expect(found.body.items[0]).toMatchObject({
    displayName: 'Megan Bowen',
    email: MEGAN,
    type: 'colleague',
    source: 'people',
    id: expect.any(String),
  });
  // The directory adds colleagues the People API does not rank.
  const lee = await call(adele, 'people.find', { query: 'Lee' });
  expect((lee.body.items as Json[]).map((p) => p.email as string)).toContain(LEE);

  await controlCall(t.sandbox, 'PUT', `/presence/${MEGAN}`, { availability: 'Busy', activity: 'InACall' });
  const presence = await call(adele, 'people.getPresence', { users: [MEGAN, 'nobody@contoso.test'] });
  expect(presence.status).toBe(200);
  expect(presence.body).toEqual({
    items: [
      {
        user: MEGAN,
        userId: found.body.items[0].id,
        availability: 'Busy',
        activity: 'InACall',
        statusMessage: null,
        outOfOffice: false,
      },
    ],
    notFound: ['nobody@contoso.test'],
  });
  const me = await call(adele, 'people.getPresence', {});
  expect(me.body.items[0]).toMatchObject({ user: 'me', availability: expect.any(String) });
});

test('over MCP: search.query and people.find answer structured content that matches their output schemas', async () => {
  const client = new Client({ name: 'e2e-search', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${t.api}/mcp`), {
      requestInit: {
        headers: { 'x-functions-key': FUNCTION_KEY, authorization: `Bearer ${await t.tokenFor(adele)}` },
      },
    }),
  );
  try {
    // Listing the tools makes the SDK client hold every result to its tool's output schema.
    const { tools } = await client.listTools();
    const search = tools.find((tool) => tool.name === 'search.query')!;
    expect(search.description).toMatch(/use the list actions/);
    const result = (await client.callTool({
      name: 'search.query',
      arguments: { query: 'contoso budget' },
    })) as {
      isError?: boolean;
      structuredContent?: Json;
    };
    expect(result.isError).toBeFalsy();
    const kinds = new Set((result.structuredContent!.items as Json[]).map((i) => i.kind as string));
    expect([...kinds].sort()).toEqual(['event', 'file', 'mail', 'teams']);
    const people = (await client.callTool({ name: 'people.find', arguments: { query: 'meg' } })) as {
      isError?: boolean;
      structuredContent?: Json;
    };
    expect(people.isError).toBeFalsy();
    expect((people.structuredContent!.items as Json[])[0]!.email).toBe(MEGAN);
  } finally {
    await client.close();
  }
});
