/**
 * The sandbox's Graph v1.0 core through the real @microsoft/microsoft-graph-client: auth and
 * permissions, users, OData options and paging, $batch, delta and throttling. Each [EMU] rule
 * cites ../shared/reference/graph-behaviour.md and the Microsoft page it comes from.
 */
import {
  BatchRequestContent,
  BatchResponseContent,
  Client,
  PageIterator,
  type PageCollection,
} from '@microsoft/microsoft-graph-client';
import { generateKeyPair, SignJWT } from 'jose';
import type { Sandbox } from '../../sandbox';
import { collection, deltaResponse, graphRoute, graphState, notFound } from '../../sandbox/graph';
import { mintAccessToken } from '../../sandbox/tokens';
import {
  mintToken,
  controlCall,
  injectFault,
  requestLog,
  startTestSandbox,
  TEST_APP,
  graphFailure,
  graphClientFor,
} from '../support/sandbox';

let sandbox: Sandbox;
let adeleId: string;
let meganId: string;

const tokenFor = (user: string, scopes: string[], extra: Parameters<typeof mintToken>[3] = {}) =>
  mintToken(sandbox, user, scopes, extra);

const graphClient = (token: string) => graphClientFor(sandbox, token);

async function seed(userId: string, name: string, items: Array<Record<string, unknown>>) {
  return await controlCall<{ value: Array<Record<string, unknown>> }>(
    sandbox,
    'POST',
    `/store/${userId}/${encodeURIComponent(name)}`,
    items,
  );
}

function testItem(i: number): Record<string, unknown> {
  return {
    id: `item-${String(i).padStart(2, '0')}`,
    subject: i === 7 ? "Let's meet" : `Subject ${i}`,
    importance: i % 3 === 0 ? 'high' : 'normal',
    isRead: i % 2 === 0,
    receivedDateTime: new Date(Date.UTC(2024, 0, 1 + i)).toISOString(),
    from: { emailAddress: { address: i % 4 === 0 ? 'megan.bowen@contoso.test' : `sender${i}@contoso.test` } },
    toRecipients: [{ emailAddress: { address: `rcpt${i % 5}@contoso.test` } }],
  };
}

beforeAll(async () => {
  sandbox = await startTestSandbox();
  adeleId = sandbox.directory.findUser('adele.vance@contoso.test')!.id;
  meganId = sandbox.directory.findUser('megan.bowen@contoso.test')!.id;

  // A test-only Outlook-style collection, registered the way service modules register theirs.
  graphRoute(sandbox, 'GET', '/me/testItems', { scopes: { anyOf: ['Mail.Read'] } }, (ctx) =>
    collection(ctx, ctx.graph.store.list(ctx.graph.store.collection(ctx.user!.id, 'testItems')), {
      kind: 'outlook',
      search: (item, term) => String(item.subject).toLowerCase().includes(term.toLowerCase()),
    }),
  );
  // Literal segments (delta) register before `:id` patterns: the router takes the first match.
  graphRoute(sandbox, 'GET', '/me/testItems/delta', { scopes: { anyOf: ['Mail.Read'] } }, (ctx) =>
    deltaResponse(ctx, ctx.graph.store.collection(ctx.user!.id, 'deltaItems'), { style: 'outlook' }),
  );
  graphRoute(sandbox, 'GET', '/me/testItems/:id', { scopes: { anyOf: ['Mail.Read'] } }, (ctx) => {
    const store = ctx.graph.store;
    const item = store.get(store.collection(ctx.user!.id, 'testItems'), ctx.params.id!);
    if (!item) throw notFound('outlook');
    return { status: 200, headers: { 'content-type': 'application/json' }, body: item };
  });
  graphRoute(sandbox, 'POST', '/me/testItems', { scopes: { anyOf: ['Mail.ReadWrite'] } }, async (ctx) => {
    const store = ctx.graph.store;
    const created = store.insert(store.collection(ctx.user!.id, 'testItems'), await ctx.json());
    return { status: 201, headers: { 'content-type': 'application/json' }, body: created };
  });
  // A drive-style collection: $skiptoken paging, camelCase codes, `deleted` facet in delta.
  graphRoute(
    sandbox,
    'GET',
    '/me/testFiles',
    { scopes: { anyOf: ['Files.Read'] }, workload: 'drive' },
    (ctx) =>
      collection(ctx, ctx.graph.store.list(ctx.graph.store.collection(ctx.user!.id, 'testFiles')), {
        kind: 'skiptoken',
        maxTop: 50,
        defaultTop: 20,
      }),
  );
  graphRoute(
    sandbox,
    'GET',
    '/me/testFiles/delta',
    { scopes: { anyOf: ['Files.Read'] }, workload: 'drive', throttle: 'none' },
    (ctx) => deltaResponse(ctx, ctx.graph.store.collection(ctx.user!.id, 'testFiles'), { style: 'drive' }),
  );

  await seed(
    adeleId,
    'testItems',
    Array.from({ length: 25 }, (_, i) => testItem(i)),
  );
  await seed(
    adeleId,
    'testFiles',
    Array.from({ length: 45 }, (_, i) => ({ id: `file-${i}`, name: `file-${i}.txt`, size: i * 10 })),
  );
});
afterAll(async () => await sandbox.stop());

describe('authentication and permissions', () => {
  test('the Graph client reads /me with a delegated token', async () => {
    const token = await tokenFor('adele.vance@contoso.test', ['User.Read']);
    const me = await graphClient(token).api('/me').get();
    expect(me.displayName).toBe('Adele Vance');
    expect(me.id).toBe(adeleId);
    expect(me['@odata.context']).toBe(`${sandbox.graphBaseUrl}/$metadata#users/$entity`);
  });

  test('a forged token, an expired token and a missing token get 401 InvalidAuthenticationToken', async () => {
    // §1.2 / §7.7 (https://learn.microsoft.com/graph/errors): 401 for missing or invalid tokens.
    const { privateKey } = await generateKeyPair('RS256');
    const now = Math.floor(sandbox.now() / 1000);
    const forged = await new SignJWT({
      oid: adeleId,
      tid: sandbox.tenantId,
      scp: 'User.Read',
      aud: '00000003-0000-0000-c000-000000000000',
    })
      .setProtectedHeader({ alg: 'RS256', kid: sandbox.keys.kid })
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(privateKey);
    const forgedErr = await graphFailure(graphClient(forged).api('/me').get());
    expect(forgedErr.statusCode).toBe(401);
    expect(forgedErr.code).toBe('InvalidAuthenticationToken');

    const shortLived = await tokenFor('adele.vance@contoso.test', ['User.Read'], { lifetimeSeconds: 60 });
    await graphClient(shortLived).api('/me').get();
    sandbox.advanceClock(120_000);
    const expired = await graphFailure(graphClient(shortLived).api('/me').get());
    expect(expired.statusCode).toBe(401);
    expect(expired.code).toBe('InvalidAuthenticationToken');
    expect(expired.message).toBe('Lifetime validation failed, the token is expired.');

    const res = await fetch(`${sandbox.graphBaseUrl}/me`);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error).toMatchObject({
      code: 'InvalidAuthenticationToken',
      message: 'Access token is empty.',
    });
  });

  test('a missing scope gets 403 with the workload code naming the permission', async () => {
    const token = await tokenFor('adele.vance@contoso.test', ['User.Read']);
    const err = await graphFailure(graphClient(token).api('/me/mailboxSettings').get());
    expect(err.statusCode).toBe(403);
    expect(err.code).toBe('ErrorAccessDenied');
    expect(err.message).toContain('MailboxSettings.Read');
    // Mail.ReadWrite implies Mail.Read.
    const rw = await tokenFor('adele.vance@contoso.test', ['Mail.ReadWrite']);
    const page = await graphClient(rw).api('/me/testItems').get();
    expect(page.value).toHaveLength(10);
  });

  test('a revoked token gets the CAE claims challenge only when the client declared cp1', async () => {
    // §7.8 (claims-challenge.md, app-resilience-continuous-access-evaluation.md).
    const cp1 = await tokenFor('adele.vance@contoso.test', ['User.Read'], { capabilities: ['cp1'] });
    const plain = await tokenFor('adele.vance@contoso.test', ['User.Read']);
    sandbox.advanceClock(2000);
    sandbox.directory.revokedBefore.set(adeleId, sandbox.now());
    try {
      const res = await fetch(`${sandbox.graphBaseUrl}/me`, { headers: { authorization: `Bearer ${cp1}` } });
      expect(res.status).toBe(401);
      const challenge = res.headers.get('www-authenticate') ?? '';
      expect(challenge).toContain('error="insufficient_claims"');
      expect(challenge).toContain('authorization_uri="');
      const claims = /claims="([^"]+)"/.exec(challenge)?.[1] ?? '';
      expect(JSON.parse(Buffer.from(claims, 'base64').toString('utf8'))).toEqual({
        access_token: { nbf: { essential: true, value: expect.any(String) } },
      });

      const err = await graphFailure(graphClient(plain).api('/me').get());
      expect(err.statusCode).toBe(401);
      expect(err.code).toBe('InvalidAuthenticationToken');
      expect(err.headers?.get('www-authenticate') ?? '').not.toContain('insufficient_claims');

      sandbox.advanceClock(1000);
      const fresh = await tokenFor('adele.vance@contoso.test', ['User.Read'], { capabilities: ['cp1'] });
      expect((await graphClient(fresh).api('/me').get()).id).toBe(adeleId);
    } finally {
      sandbox.directory.revokedBefore.delete(adeleId);
    }
  });

  test('an app-only token cannot use /me (400, §7.6)', async () => {
    // https://github.com/microsoftgraph/msgraph-sdk-php/issues/1163
    const now = sandbox.now();
    const appToken = await mintAccessToken(sandbox.keys, {
      userId: '0d7a2c1e-0000-4000-8000-000000000001',
      tenantId: sandbox.tenantId,
      clientId: TEST_APP.clientId,
      scopes: [],
      roles: ['User.Read.All'],
      lifetimeSeconds: 3600,
      nowMs: now,
      issuerHost: sandbox.authorityHost,
    });
    const err = await graphFailure(graphClient(appToken).api('/me').get());
    expect(err.statusCode).toBe(400);
    expect(err.message).toBe('/me request is only valid with delegated authentication flow.');
    const megan = await graphClient(appToken).api('/users/megan.bowen@contoso.test').get();
    expect(megan.id).toBe(meganId);
  });
});

describe('users and mailbox settings', () => {
  test('GET /users/{upn} honours $select and 404s unknown users', async () => {
    const client = graphClient(await tokenFor('adele.vance@contoso.test', ['User.ReadBasic.All']));
    const megan = await client.api('/users/megan.bowen@contoso.test').select(['displayName', 'mail']).get();
    expect(megan).toEqual({
      '@odata.context': `${sandbox.graphBaseUrl}/$metadata#users(displayName,mail)/$entity`,
      id: meganId,
      displayName: 'Megan Bowen',
      mail: 'megan.bowen@contoso.test',
    });
    const missing = await graphFailure(client.api('/users/nobody@contoso.test').get());
    expect(missing.statusCode).toBe(404);
    expect(missing.code).toBe('Request_ResourceNotFound');
  });

  test('mailboxSettings gives Windows time-zone names; another mailbox needs delegated rights', async () => {
    const client = graphClient(await tokenFor('adele.vance@contoso.test', ['MailboxSettings.Read']));
    const mine = await client.api('/me/mailboxSettings').get();
    expect(mine.timeZone).toBe('W. Europe Standard Time');
    expect(mine.workingHours).toMatchObject({
      startTime: '09:00:00.0000000',
      timeZone: { name: 'W. Europe Standard Time' },
    });

    const denied = await graphFailure(client.api('/users/megan.bowen@contoso.test/mailboxSettings').get());
    expect(denied.statusCode).toBe(403);
    expect(denied.code).toBe('ErrorAccessDenied');
    await controlCall(sandbox, 'PATCH', `/users/${adeleId}`, {
      mailboxRights: { [meganId]: { fullAccess: true, sendAs: false, sendOnBehalf: false } },
    });
    try {
      const theirs = await client.api(`/users/${meganId}/mailboxSettings`).get();
      expect(theirs.timeZone).toBe('Eastern Standard Time');
      const unknown = await graphFailure(client.api('/users/ghost@contoso.test/mailboxSettings').get());
      expect(unknown.statusCode).toBe(404);
    } finally {
      await controlCall(sandbox, 'PATCH', `/users/${adeleId}`, { mailboxRights: {} });
    }
  });
});

describe('OData query options and paging', () => {
  let client: Client;
  beforeAll(async () => {
    client = graphClient(await tokenFor('adele.vance@contoso.test', ['Mail.Read', 'Files.Read']));
  });

  test('PageIterator pages an Outlook collection to the end through absolute $skip nextLinks', async () => {
    // §4.1 (paging.md; query-parameters.md $skip note): Outlook pages with $skip, default page 10.
    const since = (await requestLog(sandbox)).at(-1)?.seq ?? 0;
    const first = (await client.api('/me/testItems').get()) as PageCollection;
    expect(first['@odata.nextLink']).toBe(`${sandbox.url}/v1.0/me/testItems?$skip=10`);
    const ids: string[] = [];
    await new PageIterator(client, first, (item: { id: string }) => {
      ids.push(item.id);
      return true;
    }).iterate();
    expect(ids).toHaveLength(25);
    expect(new Set(ids).size).toBe(25);
    const pages = (await requestLog(sandbox, since)).filter((e) => e.path === '/v1.0/me/testItems');
    expect(pages.map((e) => e.query.$skip)).toEqual([undefined, '10', '20']);
  });

  test('$filter, $orderby, $select and $top', async () => {
    const page = await client
      .api('/me/testItems')
      .filter(
        "importance eq 'high' and (isRead eq false or startswith(subject,'Subject 1')) and receivedDateTime ge 2024-01-05T00:00:00Z",
      )
      .orderby('isRead desc,receivedDateTime desc')
      .select(['subject', 'isRead'])
      .top(3)
      .get();
    // $select keeps id and @odata.etag, as Outlook does.
    const etag = expect.stringMatching(/^W\/"/);
    expect(page.value).toEqual([
      { id: 'item-18', '@odata.etag': etag, subject: 'Subject 18', isRead: true },
      { id: 'item-12', '@odata.etag': etag, subject: 'Subject 12', isRead: true },
      { id: 'item-21', '@odata.etag': etag, subject: 'Subject 21', isRead: false },
    ]);
    expect(page['@odata.nextLink']).toMatch(/\$top=3&\$skip=3$/);
    expect(page['@odata.context']).toBe(
      `${sandbox.graphBaseUrl}/$metadata#users('${adeleId}')/testItems(subject,isRead)`,
    );

    const nested = await client
      .api('/me/testItems')
      .filter(
        "from/emailAddress/address eq 'MEGAN.BOWEN@contoso.test' and toRecipients/any(r:r/emailAddress/address eq 'rcpt0@contoso.test')",
      )
      .get();
    expect(nested.value.map((i: { id: string }) => i.id)).toEqual(['item-00', 'item-20']);

    // A quote inside a literal is doubled (query-parameters.md "Escaping").
    const quoted = await client
      .api('/me/testItems')
      .filter("subject eq 'Let''s meet' and not (isRead eq true)")
      .get();
    expect(quoted.value.map((i: { id: string }) => i.id)).toEqual(['item-07']);

    const searched = await client.api('/me/testItems').search('"subject 2"').count(true).get();
    expect(searched['@odata.count']).toBe(6);
  });

  test('malformed or out-of-range options answer 400 with the workload code', async () => {
    // §4.1: messages $top 1–1000 (user-list-messages.md); the emulator rejects above the maximum.
    const tooMany = await graphFailure(client.api('/me/testItems').top(1001).get());
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.code).toBe('ErrorInvalidUrlQuery');
    const badFilter = await graphFailure(client.api('/me/testItems').filter("subject eq 'open").get());
    expect(badFilter.statusCode).toBe(400);
    expect(badFilter.code).toBe('ErrorInvalidUrlQueryFilter');
    const driveSkip = await graphFailure(client.api('/me/testFiles').skip(5).get());
    expect(driveSkip.statusCode).toBe(400);
    expect(driveSkip.code).toBe('invalidRequest');
  });

  test('Prefer: odata.maxpagesize sets the page size and is echoed in Preference-Applied', async () => {
    // §4.2 [EMU]: echo Preference-Applied for odata.maxpagesize.
    const res = await fetch(`${sandbox.graphBaseUrl}/me/testItems`, {
      headers: {
        authorization: `Bearer ${await tokenFor('adele.vance@contoso.test', ['Mail.Read'])}`,
        prefer: 'odata.maxpagesize=4, outlook.timezone="Pacific Standard Time"',
      },
    });
    const body = (await res.json()) as { value: unknown[]; '@odata.nextLink': string };
    expect(body.value).toHaveLength(4);
    expect(body['@odata.nextLink']).toBe(`${sandbox.url}/v1.0/me/testItems?$skip=4`);
    expect(res.headers.get('preference-applied')).toBe(
      'outlook.timezone="Pacific Standard Time", odata.maxpagesize=4',
    );
  });

  test('non-Outlook collections page with an opaque $skiptoken', async () => {
    const first = await client.api('/me/testFiles').get();
    expect(first.value).toHaveLength(20);
    const next = new URL(first['@odata.nextLink'] as string);
    expect(next.searchParams.get('$skiptoken')).toBeTruthy();
    expect(next.searchParams.has('$skip')).toBe(false);
    const names: string[] = [];
    await new PageIterator(client, first, (f: { name: string }) => {
      names.push(f.name);
      return true;
    }).iterate();
    expect(names).toHaveLength(45);
  });
});

describe('JSON $batch', () => {
  let token: string;
  let client: Client;
  beforeAll(async () => {
    token = await tokenFor('adele.vance@contoso.test', ['Mail.ReadWrite', 'User.Read']);
    client = graphClient(token);
  });

  const step = (id: string, path: string, init?: RequestInit, dependsOn?: string[]) => ({
    id,
    // Step URLs relative to the version root: the SDK keeps /v1.0 otherwise (toolchain.md).
    request: new Request(`${sandbox.url}${path}`, init),
    ...(dependsOn ? { dependsOn } : {}),
  });

  test('the SDK serial batch runs in dependsOn order', async () => {
    // §3 (json-batching.md): "the listed requests run in the given order".
    const since = (await requestLog(sandbox)).at(-1)?.seq ?? 0;
    const post = (subject: string): RequestInit => ({
      method: 'POST',
      body: JSON.stringify({ subject }),
      headers: { 'Content-Type': 'application/json' },
    });
    const batch = new BatchRequestContent([
      step('a', '/me/testItems', post('batch first')),
      step('b', '/me/testItems', post('batch second'), ['a']),
      step('c', '/me/testItems', post('batch third'), ['b']),
    ]);
    const responses = new BatchResponseContent(await client.api('/$batch').post(await batch.getContent()));
    for (const id of ['a', 'b', 'c']) expect(responses.getResponseById(id).status).toBe(201);
    expect(((await responses.getResponseById('c').json()) as { subject: string }).subject).toBe(
      'batch third',
    );

    const log = await requestLog(sandbox, since);
    expect(log.filter((e) => e.path === '/v1.0/$batch')).toHaveLength(1);
    const inner = log.filter((e) => e.batch !== undefined);
    expect(inner.map((e) => e.batch?.itemId)).toEqual(['a', 'b', 'c']);
    const [a, b, c] = inner;
    expect(b!.startedAt).toBeGreaterThanOrEqual(a!.endedAt!);
    expect(c!.startedAt).toBeGreaterThanOrEqual(b!.endedAt!);
  });

  test('a failed dependency gives 424, independent items still run, and responses come unordered', async () => {
    // §3 (json-batching.md): 424 for dependents of failed items; responses in any order.
    const since = (await requestLog(sandbox)).at(-1)?.seq ?? 0;
    const raw = await client.api('/$batch').post({
      requests: [
        { id: '1', method: 'GET', url: '/me/testItems/no-such-item' },
        { id: '2', method: 'GET', url: '/me', dependsOn: ['1'] },
        { id: '3', method: 'GET', url: '/me/testItems/item-01', dependsOn: ['2'] },
        { id: '4', method: 'GET', url: '/me' },
        { id: '5', method: 'GET', url: 'me/testItems?$top=1' },
        { id: '6', method: 'GET', url: '/me/testItems/item-02' },
      ],
    });
    const ids = (raw.responses as Array<{ id: string }>).map((r) => r.id);
    expect([...ids].sort()).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(ids).not.toEqual(['1', '2', '3', '4', '5', '6']);
    const responses = new BatchResponseContent(raw);
    expect(responses.getResponseById('1').status).toBe(404);
    expect(((await responses.getResponseById('1').json()) as { error: { code: string } }).error.code).toBe(
      'ErrorItemNotFound',
    );
    expect(responses.getResponseById('2').status).toBe(424);
    expect(responses.getResponseById('3').status).toBe(424);
    for (const id of ['4', '5', '6']) expect(responses.getResponseById(id).status).toBe(200);

    const inner = (await requestLog(sandbox, since)).filter((e) => e.batch !== undefined);
    expect(inner.map((e) => e.batch?.itemId).sort()).toEqual(['1', '4', '5', '6']);
  });

  test('a throttled item gets its own 429 and Retry-After while the batch answers 200', async () => {
    // §2.4 (throttling.md "Throttling and batching"): per-item 429 with its own Retry-After.
    await injectFault(sandbox, {
      method: 'GET',
      path: '^/v1.0/me/testItems/item-03$',
      status: 429,
      headers: { 'retry-after': '7' },
    });
    const batch = new BatchRequestContent([
      step('1', '/me/testItems/item-02'),
      step('2', '/me/testItems/item-03'),
      step('3', '/me/testItems/item-04'),
    ]);
    const res = await fetch(`${sandbox.graphBaseUrl}/$batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(await batch.getContent()),
    });
    expect(res.status).toBe(200);
    const responses = new BatchResponseContent((await res.json()) as never);
    const limited = responses.getResponseById('2');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(responses.getResponseById('1').status).toBe(200);
    expect(responses.getResponseById('3').status).toBe(200);
  });

  test('malformed batches answer 400', async () => {
    const get = (id: string) => ({ id, method: 'GET', url: '/me' });
    const post = async (body: unknown) => await graphFailure(client.api('/$batch').post(body));

    const tooMany = await post({ requests: Array.from({ length: 21 }, (_, i) => get(String(i))) });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.message).toBe('Number of requests in batch exceeds the limit of 20');
    // Ids are case-insensitive (json-batching.md).
    expect((await post({ requests: [get('Abc'), get('aBC')] })).statusCode).toBe(400);
    expect((await post({ requests: [{ ...get('1'), dependsOn: ['9'] }] })).statusCode).toBe(400);
    const noType = await post({
      requests: [{ id: '1', method: 'POST', url: '/me/testItems', body: { subject: 'x' } }],
    });
    expect(noType.statusCode).toBe(400);
    expect(noType.message).toContain('Content-Type');

    // Step URLs keep working without a leading slash; /v1.0 inside a step is an item-level 400.
    const ok = await client.api('/$batch').post({
      requests: [
        { id: '1', method: 'GET', url: 'me' },
        get('2'),
        { id: '3', method: 'GET', url: '/v1.0/me' },
      ],
    });
    const byId = Object.fromEntries(
      (ok.responses as Array<{ id: string; status: number }>).map((r) => [r.id, r.status]),
    );
    expect(byId).toEqual({ '1': 200, '2': 200, '3': 400 });
  });
});

describe('delta', () => {
  let token: string;
  const get = async (link: string, prefer?: string) =>
    await fetch(link, { headers: { authorization: `Bearer ${token}`, ...(prefer ? { prefer } : {}) } });

  beforeAll(async () => {
    token = await tokenFor('adele.vance@contoso.test', ['Mail.Read', 'Files.Read']);
    await seed(
      adeleId,
      'deltaItems',
      Array.from({ length: 23 }, (_, i) => ({ id: `d-${i}`, subject: `Delta ${i}` })),
    );
    await controlCall(sandbox, 'DELETE', `/store/${adeleId}/deltaItems/d-22`);
  });

  test('initial round pages then deltaLink; later rounds return only changes and @removed; invalidation gives 410', async () => {
    // §5.1 (delta-query-overview.md): pages via nextLink, then a deltaLink; removed items as @removed.
    const client = graphClient(token);
    const pageSizes: number[] = [];
    let res = (await client
      .api('/me/testItems/delta')
      .header('Prefer', 'odata.maxpagesize=10')
      .get()) as PageCollection;
    const seen: string[] = [];
    for (;;) {
      pageSizes.push(res.value.length);
      seen.push(...res.value.map((v: { id: string }) => v.id));
      if (!res['@odata.nextLink']) break;
      expect(res['@odata.nextLink']).toContain('$skiptoken=');
      res = (await client.api(res['@odata.nextLink']).get()) as PageCollection;
    }
    expect(pageSizes).toEqual([10, 10, 2]);
    expect(seen).not.toContain('d-22');
    const deltaLink = res['@odata.deltaLink'] as string;
    expect(deltaLink).toMatch(
      new RegExp(`^${sandbox.url.replace(/\./g, '\\.')}/v1\\.0/me/testItems/delta\\?\\$deltatoken=`),
    );

    const quiet = (await (await get(deltaLink)).json()) as { value: unknown[]; '@odata.deltaLink': string };
    expect(quiet.value).toEqual([]);

    await controlCall(sandbox, 'PATCH', `/store/${adeleId}/deltaItems/d-5`, { subject: 'Delta 5 (edited)' });
    await controlCall(sandbox, 'DELETE', `/store/${adeleId}/deltaItems/d-6`);
    await seed(adeleId, 'deltaItems', [{ id: 'd-new', subject: 'Brand new' }]);
    const round2 = (await (await get(quiet['@odata.deltaLink'])).json()) as {
      value: Array<Record<string, unknown>>;
      '@odata.deltaLink': string;
    };
    expect(round2.value).toEqual([
      expect.objectContaining({
        id: 'd-5',
        subject: 'Delta 5 (edited)',
        '@odata.etag': expect.stringMatching(/^W\/"/),
      }),
      { id: 'd-6', '@removed': { reason: 'deleted' } },
      expect.objectContaining({ id: 'd-new', subject: 'Brand new' }),
    ]);

    // §5.1 item 7: expired Outlook delta state → 410 SyncStateNotFound (microsoft-graph-docs#2350).
    await controlCall(sandbox, 'POST', '/delta/invalidate', { userId: adeleId, collection: 'deltaItems' });
    const gone = await graphFailure(client.api(round2['@odata.deltaLink']).get());
    expect(gone.statusCode).toBe(410);
    expect(gone.code).toBe('SyncStateNotFound');
  });

  test('drive delta: deleted facet, token=latest, and 410 resyncRequired with a Location to restart', async () => {
    // §5.2 driveItem (driveitem-delta.md).
    const latest = (await (await get(`${sandbox.graphBaseUrl}/me/testFiles/delta?token=latest`)).json()) as {
      value: unknown[];
      '@odata.deltaLink': string;
    };
    expect(latest.value).toEqual([]);
    expect(latest['@odata.deltaLink']).toContain('/me/testFiles/delta?token=');
    await controlCall(sandbox, 'DELETE', `/store/${adeleId}/testFiles/file-3`);
    const changes = (await (await get(latest['@odata.deltaLink'])).json()) as {
      value: unknown[];
      '@odata.deltaLink': string;
    };
    expect(changes.value).toEqual([expect.objectContaining({ id: 'file-3', deleted: { state: 'deleted' } })]);

    await controlCall(sandbox, 'POST', '/delta/invalidate', { userId: adeleId });
    const gone = await get(changes['@odata.deltaLink']);
    expect(gone.status).toBe(410);
    expect(((await gone.json()) as { error: { code: string } }).error.code).toBe('resyncRequired');
    const restart = gone.headers.get('location')!;
    expect(restart).toBe(`${sandbox.url}/v1.0/me/testFiles/delta`);
    const fresh = (await (await get(restart)).json()) as { value: unknown[] };
    expect(fresh.value).toHaveLength(44);
  });
});

describe('throttling', () => {
  afterEach(async () => {
    await controlCall(sandbox, 'PUT', '/throttle', {
      latencyMs: 0,
      requestsPerWindow: 10_000,
      windowSeconds: 600,
      reset: true,
    });
  });

  test('more than 4 concurrent requests for one mailbox get 429 with Retry-After; served ones never exceed 4', async () => {
    // §2.3 Outlook limits (throttling-limits.md): 4 concurrent requests per app per mailbox.
    await controlCall(sandbox, 'PUT', '/throttle', { latencyMs: 300 });
    const token = await tokenFor('adele.vance@contoso.test', ['Mail.Read']);
    const since = (await requestLog(sandbox)).at(-1)?.seq ?? 0;
    const results = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const res = await fetch(`${sandbox.graphBaseUrl}/me/testItems?$top=1`, {
          headers: { authorization: `Bearer ${token}` },
        });
        return {
          status: res.status,
          retryAfter: res.headers.get('retry-after'),
          body: (await res.json()) as { error?: { code: string; innerError: Record<string, string> } },
        };
      }),
    );
    const throttled = results.filter((r) => r.status === 429);
    expect(throttled.length).toBeGreaterThanOrEqual(2);
    expect(results.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(1);
    for (const r of throttled) {
      expect(Number(r.retryAfter)).toBeGreaterThan(0);
      expect(r.body.error?.code).toBe('ApplicationThrottled');
      expect(r.body.error?.innerError).toMatchObject({ code: '429', status: '429' });
    }
    const log = (await requestLog(sandbox, since)).filter((e) => e.path === '/v1.0/me/testItems');
    expect(log).toHaveLength(6);
    expect(log.every((e) => e.mailbox === adeleId)).toBe(true);
    const served = log.filter((e) => e.status === 200);
    expect(Math.max(...served.map((e) => e.concurrency ?? 0))).toBeLessThanOrEqual(4);
    // Other mailboxes are unaffected.
    const megan = await tokenFor('megan.bowen@contoso.test', ['Mail.Read']);
    expect(
      (await fetch(`${sandbox.graphBaseUrl}/me/testItems`, { headers: { authorization: `Bearer ${megan}` } }))
        .status,
    ).toBe(200);
  });

  test('an exhausted request budget gives 429 TooManyRequests until the window moves on', async () => {
    // §2.2/§2.3 (throttling.md sample): 429 + Retry-After; waiting Retry-After succeeds.
    await controlCall(sandbox, 'PUT', '/throttle', { requestsPerWindow: 3, windowSeconds: 60, reset: true });
    const token = await tokenFor('adele.vance@contoso.test', ['Mail.Read']);
    const call = async () =>
      await fetch(`${sandbox.graphBaseUrl}/me/testItems?$top=1`, {
        headers: { authorization: `Bearer ${token}` },
      });
    for (let i = 0; i < 3; i++) expect((await call()).status).toBe(200);
    const limited = await call();
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('TooManyRequests');
    sandbox.advanceClock(retryAfter * 1000);
    expect((await call()).status).toBe(200);
  });

  test('the rate limiter other models reuse (Teams: 4 rps per app per channel)', async () => {
    const throttle = graphState(sandbox).throttle;
    const key = `teams:${TEST_APP.clientId}:team-1:channel-1`;
    const verdicts = Array.from({ length: 5 }, () => throttle.rate(key, 4));
    expect(verdicts.slice(0, 4)).toEqual([undefined, undefined, undefined, undefined]);
    expect(verdicts[4]).toBeGreaterThan(0);
    sandbox.advanceClock(1000);
    expect(throttle.rate(key, 4)).toBeUndefined();
  });
});
