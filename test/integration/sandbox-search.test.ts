/**
 * Microsoft Search, People, directory $search and presence in the sandbox (issue 21), each rule
 * with its source:
 * - search-api-overview.md ("Page search results", "Sort search results", "Known limitations"),
 * - search-concept-interleaving (which entity types combine), search-concept-multiplerequest,
 * - search-concept-messages / -chat-messages (`total` counts the page; resource shapes),
 * - search-concept-events (capitalised `type` and `sensitivity`, UTC times),
 * - user-list-people.md, search-query-parameter.md (directory `$search` needs ConsistencyLevel),
 * - presence.md, cloudcommunications-getpresencesbyuserid.md.
 */
import type { Sandbox } from '../../sandbox';
import { schemaIssues } from '../support/csdl-schema';
import { controlCall, mintToken, startTestSandbox } from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const ALL = [
  'Mail.ReadWrite',
  'Mail.Send',
  'Calendars.ReadWrite',
  'Files.ReadWrite.All',
  'Chat.ReadWrite',
  'People.Read',
  'Presence.Read.All',
  'User.ReadBasic.All',
];

let sandbox: Sandbox;
let token: string;

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  as = token,
) {
  const res = await fetch(`${sandbox.graphBaseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${as}`,
      ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Json };
}

async function search(request: Json, as = token) {
  return await call('POST', '/search/query', { requests: [request] }, {}, as);
}

const container = (r: { body: Json }): Json => (r.body.value as Json[])[0]!.hitsContainers[0] as Json;

beforeAll(async () => {
  sandbox = await startTestSandbox();
  token = await mintToken(sandbox, ADELE, ALL);
  // Something to find in each service, mentioning "Contoso budget".
  expect(
    (
      await call('POST', '/me/messages', {
        subject: 'Contoso budget for Q3',
        body: { contentType: 'text', content: 'Please review the Contoso budget before Friday.' },
        toRecipients: [{ emailAddress: { address: MEGAN } }],
      })
    ).status,
  ).toBe(201);
  expect(
    (
      await call('POST', '/me/events', {
        subject: 'Contoso budget review',
        start: { dateTime: '2030-03-04T10:00:00', timeZone: 'UTC' },
        end: { dateTime: '2030-03-04T11:00:00', timeZone: 'UTC' },
      })
    ).status,
  ).toBe(201);
  expect(
    (
      await call(
        'PUT',
        '/me/drive/root:/Finance/plan.txt:/content',
        'Draft of the Contoso budget, version 2.',
        {
          'content-type': 'text/plain',
        },
      )
    ).status,
  ).toBe(201);
  const chats = await call('GET', '/me/chats');
  expect(
    (
      await call('POST', `/chats/${chats.body.value[0].id}/messages`, {
        body: { content: 'Has anyone seen the Contoso budget?' },
      })
    ).status,
  ).toBe(201);
});
afterAll(async () => await sandbox.stop());

describe('POST /search/query', () => {
  test('finds mail, events, files and chat messages, highlighted, in their documented shapes', async () => {
    const mail = await search({
      entityTypes: ['message', 'chatMessage'],
      query: { queryString: 'contoso budget' },
    });
    expect(mail.status).toBe(200);
    expect(mail.body.value[0].searchTerms).toEqual(['contoso', 'budget']);
    const hits = container(mail).hits as Json[];
    const message = hits.find((h) => h.resource['@odata.type'] === '#microsoft.graph.message')!;
    expect(message.resource.subject).toBe('Contoso budget for Q3');
    expect(message.summary).toContain('<c0>Contoso</c0> <c0>budget</c0>');
    // search-concept-chat-messages: from as an emailAddress, @odata.type without '#'.
    const chat = hits.find((h) => h.resource['@odata.type'] === 'microsoft.graph.chatMessage')!;
    expect(chat.resource.from.emailAddress.address).toBe(ADELE);
    expect(chat.resource.chatId).toEqual(expect.any(String));
    expect(chat.summary).toContain('<c0>Contoso</c0>');
    // Newest first: the chat message was written after the draft.
    expect(hits.map((h) => h.rank as number)).toEqual(hits.map((_, i) => i + 1));

    const events = await search({ entityTypes: ['event'], query: { queryString: 'contoso budget' } });
    const event = container(events).hits[0];
    expect(event.resource).toMatchObject({
      '@odata.type': '#microsoft.graph.event',
      subject: 'Contoso budget review',
      type: 'Single',
      sensitivity: 'Normal',
      start: { dateTime: '2030-03-04T10:00:00Z', timeZone: 'UTC' },
    });

    const files = await search({ entityTypes: ['driveItem'], query: { queryString: 'contoso budget' } });
    const file = container(files).hits[0];
    expect(file.resource).toMatchObject({ '@odata.type': '#microsoft.graph.driveItem', name: 'plan.txt' });
    // The file's text is indexed: the summary comes from its content.
    expect(file.summary).toContain('<c0>Contoso</c0> <c0>budget</c0>');
  });

  test('KQL: property restrictions, phrases, OR, NOT, prefixes, date ranges', async () => {
    const subjects = async (queryString: string) =>
      (
        (container(await search({ entityTypes: ['message'], query: { queryString } })).hits ?? []) as Json[]
      ).map((h) => h.resource.subject as string);
    expect(await subjects('subject:"Contoso budget"')).toEqual(['Contoso budget for Q3']);
    expect(await subjects('"budget contoso"')).toEqual([]);
    expect(await subjects('budg*')).toContain('Contoso budget for Q3');
    expect(await subjects('contoso AND NOT friday')).not.toContain('Contoso budget for Q3');
    expect(await subjects('zzzunlikely OR "Contoso budget"')).toContain('Contoso budget for Q3');
    expect(await subjects(`to:${MEGAN} budget`)).toEqual(['Contoso budget for Q3']);
    expect(await subjects('budget -contoso')).not.toContain('Contoso budget for Q3');
    const today = new Date(sandbox.now()).toISOString().slice(0, 10);
    expect(await subjects(`contoso received>=${today}`)).toContain('Contoso budget for Q3');
    expect(await subjects('contoso received<2001-01-01')).toEqual([]);
    const broken = await search({ entityTypes: ['message'], query: { queryString: '(contoso' } });
    expect(broken.status).toBe(400);
    expect(broken.body.error.message).toMatch(/not valid KQL/);
  });

  test('paging with from and size; total counts the page for messages (search-concept-messages)', async () => {
    const first = await search({
      entityTypes: ['message'],
      query: { queryString: 'a OR the OR contoso' },
      from: 0,
      size: 2,
    });
    const page = container(first);
    expect(page.hits).toHaveLength(2);
    expect(page.total).toBe(2);
    expect(page.moreResultsAvailable).toBe(true);
    const second = container(
      await search({
        entityTypes: ['message'],
        query: { queryString: 'a OR the OR contoso' },
        from: 2,
        size: 2,
      }),
    );
    expect(second.hits[0].rank).toBe(3);
    expect((second.hits as Json[]).map((h) => h.hitId as string)).not.toContain(page.hits[0].hitId);
    // Files count every match.
    const files = container(
      await search({
        entityTypes: ['driveItem'],
        query: { queryString: 'contoso OR budget OR txt OR docx OR xlsx' },
        size: 1,
      }),
    );
    expect(files.total).toBeGreaterThan(1);
    expect(files.hits).toHaveLength(1);
    // No hit: no hits array, total 0.
    expect(
      container(await search({ entityTypes: ['event'], query: { queryString: 'zzzunlikely' } })),
    ).toEqual({
      total: 0,
      moreResultsAvailable: false,
    });
  });

  test('the documented limits and combinations answer 400 BadRequest', async () => {
    const cases: Array<[Json, RegExp]> = [
      [{ entityTypes: ['message', 'event'], query: { queryString: 'x' } }, /cannot be combined/],
      [{ entityTypes: ['message', 'driveItem'], query: { queryString: 'x' } }, /cannot be combined/],
      [{ entityTypes: ['event', 'person'], query: { queryString: 'x' } }, /cannot be combined/],
      [{ entityTypes: ['message'], query: { queryString: 'x' }, size: 26 }, /at most 25/],
      [{ entityTypes: ['event'], query: { queryString: 'x' }, size: 26 }, /at most 25/],
      [{ entityTypes: ['driveItem'], query: { queryString: 'x' }, size: 1001 }, /between 1 and 1000/],
      [{ entityTypes: ['driveItem'], query: { queryString: 'x' }, from: -1 }, /'from'/],
      [
        { entityTypes: ['event'], query: { queryString: 'x' }, sortProperties: [{ name: 'start' }] },
        /Sorting is not supported/,
      ],
      [
        { entityTypes: ['driveItem'], query: { queryString: 'x' }, sortProperties: [{ name: 'colour' }] },
        /not a sortable/,
      ],
      [
        {
          entityTypes: ['message'],
          query: { queryString: 'x' },
          contentSources: ['/external/connections/c'],
        },
        /contentSources/,
      ],
      [{ entityTypes: ['externalItem'], query: { queryString: 'x' } }, /contentSources/],
      [{ entityTypes: ['mail'], query: { queryString: 'x' } }, /Requested value 'mail' was not found/],
      [{ entityTypes: ['message'], query: {} }, /queryString/],
      [{ query: { queryString: 'x' } }, /entityTypes/],
    ];
    for (const [request, message] of cases) {
      const r = await search(request);
      expect({ request, status: r.status, code: r.body.error?.code }).toEqual({
        request,
        status: 400,
        code: 'BadRequest',
      });
      expect(r.body.error.message).toMatch(message);
    }
    // Several requests in one body: only SharePoint/OneDrive/connector/answer types.
    const many = (types: string[][]) =>
      call('POST', '/search/query', {
        requests: types.map((t) => ({ entityTypes: t, query: { queryString: 'contoso' } })),
      });
    expect((await many([['message'], ['driveItem']])).status).toBe(400);
    const ok = await many([['driveItem'], ['drive']]);
    expect(ok.status).toBe(200);
    expect(ok.body.value).toHaveLength(2);
  });

  test('sorting files, fields, top results', async () => {
    const sorted = container(
      await search({
        entityTypes: ['driveItem'],
        query: { queryString: 'contoso OR txt OR docx OR xlsx OR pptx' },
        sortProperties: [{ name: 'name', isDescending: false }],
      }),
    );
    const names = (sorted.hits as Json[]).map((h) => h.resource.name as string);
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
    const picked = container(
      await search({
        entityTypes: ['message'],
        query: { queryString: 'contoso' },
        fields: ['subject', 'toRecipients', 'nonsense'],
      }),
    );
    expect(Object.keys(picked.hits[0].resource).sort()).toEqual(['@odata.type', 'subject', 'toRecipients']);
    // enableTopResults: the most relevant messages first, the rest by date (search-api-overview,
    // "Get the most relevant emails"). The older message mentions the word four times.
    for (const [subject, content] of [
      ['Zebrafish report', 'zebrafish zebrafish zebrafish zebrafish'],
      ['Zebrafish note', 'one zebrafish'],
    ]) {
      expect(
        (await call('POST', '/me/messages', { subject, body: { contentType: 'text', content } })).status,
      ).toBe(201);
    }
    const order = async (enableTopResults: boolean) =>
      (
        (container(
          await search({ entityTypes: ['message'], query: { queryString: 'zebrafish' }, enableTopResults }),
        ).hits ?? []) as Json[]
      ).map((h) => h.resource.subject as string);
    expect(await order(false)).toEqual(['Zebrafish note', 'Zebrafish report']);
    expect(await order(true)).toEqual(['Zebrafish report', 'Zebrafish note']);
  });

  test('each entity type needs its permission (search-api-overview entity table)', async () => {
    const filesOnly = await mintToken(sandbox, ADELE, ['Files.Read.All']);
    const denied = await search({ entityTypes: ['message'], query: { queryString: 'contoso' } }, filesOnly);
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toMatch(/Mail\.Read/);
    expect(
      (await search({ entityTypes: ['driveItem'], query: { queryString: 'contoso' } }, filesOnly)).status,
    ).toBe(200);
    const none = await mintToken(sandbox, ADELE, ['User.Read']);
    expect((await search({ entityTypes: ['driveItem'], query: { queryString: 'x' } }, none)).status).toBe(
      403,
    );
  });
});

describe('people, the directory and presence', () => {
  test('GET /me/people ranks by interaction and searches by name or address start', async () => {
    const people = await call('GET', '/me/people');
    expect(people.status).toBe(200);
    const first = people.body.value[0] as Json;
    expect(schemaIssues('microsoft.graph.person', first)).toEqual([]);
    // Adele wrote to Megan (the draft above) and shares chats with her.
    const scores = (people.body.value as Json[]).map(
      (p) => p.scoredEmailAddresses[0].relevanceScore as number,
    );
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    const meg = await call('GET', '/me/people?$search="meg"');
    expect(meg.body.value[0]).toMatchObject({
      displayName: 'Megan Bowen',
      scoredEmailAddresses: [{ address: MEGAN }],
      personType: { class: 'Person', subclass: 'OrganizationUser' },
    });
    expect((await call('GET', '/me/people?$search="bowen"')).body.value[0].displayName).toBe('Megan Bowen');
    expect((await call('GET', '/me/people?$search="zzz"')).body.value).toEqual([]);
    const paged = await call('GET', '/me/people?$top=1');
    expect(paged.body.value).toHaveLength(1);
    expect(paged.body['@odata.nextLink']).toContain('$skip=1');
    const noScope = await mintToken(sandbox, ADELE, ['User.Read']);
    expect((await call('GET', '/me/people', undefined, {}, noScope)).status).toBe(403);
  });

  test('GET /users: $search and endsWith need ConsistencyLevel: eventual; $search takes "property:value" clauses', async () => {
    const without = await call('GET', '/users?$search="displayName:meg"');
    expect(without.status).toBe(400);
    expect(without.body.error.message).toMatch(/ConsistencyLevel: eventual/);
    const eventual = { ConsistencyLevel: 'eventual' };
    const found = await call('GET', '/users?$search="displayName:meg"', undefined, eventual);
    expect(found.status).toBe(200);
    expect((found.body.value as Json[]).map((u) => u.mail as string)).toEqual([MEGAN]);
    const either = await call('GET', '/users?$search="displayName:lee" OR "mail:meg"', undefined, eventual);
    expect((either.body.value as Json[]).map((u) => u.displayName as string).sort()).toEqual([
      'Lee Gu',
      'Megan Bowen',
    ]);
    expect((await call('GET', '/users?$search="meg"', undefined, eventual)).status).toBe(400);
    // endsWith needs ConsistencyLevel: eventual and $count=true (aad-advanced-queries.md;
    // microsoftgraph/microsoft-graph-docs#11575); startsWith does not.
    const ends = "/users?$filter=endswith(mail,'contoso.test')";
    const refused = await call('GET', ends);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      code: 'Request_UnsupportedQuery',
      message: 'Unsupported Query.',
    });
    expect((await call('GET', ends, undefined, eventual)).status).toBe(400);
    const counted = await call('GET', `${ends}&$count=true`, undefined, eventual);
    expect(counted.status).toBe(200);
    expect(counted.body.value.length).toBeGreaterThan(1);
    const starts = await call('GET', "/users?$filter=startswith(displayName,'Meg')");
    expect((starts.body.value as Json[]).map((u) => u.mail as string)).toEqual([MEGAN]);
  });

  test('presence: own, another user, many by id, set through the control API', async () => {
    const mine = await call('GET', '/me/presence');
    expect(mine.status).toBe(200);
    expect(schemaIssues('microsoft.graph.presence', mine.body)).toEqual([]);
    const users = (await call('GET', '/users')).body.value as Json[];
    const megan = users.find((u) => u.mail === MEGAN)!;
    await controlCall(sandbox, 'PUT', `/presence/${MEGAN}`, {
      availability: 'DoNotDisturb',
      activity: 'Presenting',
    });
    const hers = await call('GET', `/users/${megan.id}/presence`);
    expect(hers.body).toMatchObject({ id: megan.id, availability: 'DoNotDisturb', activity: 'Presenting' });
    const many = await call('POST', '/communications/getPresencesByUserId', {
      ids: users.map((u) => u.id as string),
    });
    expect(many.status).toBe(200);
    expect((many.body.value as Json[]).find((p) => p.id === megan.id)?.availability).toBe('DoNotDisturb');
    expect((await call('POST', '/communications/getPresencesByUserId', { ids: [] })).status).toBe(400);
    const tooMany = Array.from({ length: 651 }, (_, i) => `id-${i}`);
    expect((await call('POST', '/communications/getPresencesByUserId', { ids: tooMany })).status).toBe(400);
    // Another user's presence needs Presence.Read.All.
    const own = await mintToken(sandbox, ADELE, ['Presence.Read']);
    expect((await call('GET', '/me/presence', undefined, {}, own)).status).toBe(200);
    expect((await call('GET', `/users/${megan.id}/presence`, undefined, {}, own)).status).toBe(403);
    await controlCall(sandbox, 'PUT', `/presence/${MEGAN}`, { availability: 'Available' });
  });

  test('a meeting in progress makes a user Busy / InAMeeting', async () => {
    const now = sandbox.now();
    const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19);
    expect(
      (
        await call('POST', '/me/events', {
          subject: 'Now',
          start: { dateTime: iso(now - 600_000), timeZone: 'UTC' },
          end: { dateTime: iso(now + 3_600_000), timeZone: 'UTC' },
        })
      ).status,
    ).toBe(201);
    expect((await call('GET', '/me/presence')).body).toMatchObject({
      availability: 'Busy',
      activity: 'InAMeeting',
    });
  });
});
