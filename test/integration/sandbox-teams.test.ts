/**
 * The sandbox's Teams endpoints over real HTTPS (reference §8.4 Teams, §2.3 Teams limits, §7.6
 * delegated-only, §1.1 Teams error casing). Tokens come from POST /_sandbox/tokens (delegated) or
 * are minted in-process for app-only cases (client credentials carry `roles`, no `scp`).
 */
import type { Sandbox } from '../../sandbox';
import { graphState } from '../../sandbox/graph';
import { SEED_TEAM, TEAMS_COLLECTIONS } from '../../sandbox/graph/teams';
import { mintAccessToken } from '../../sandbox/tokens';
import { controlCall, startTestSandbox, mintToken } from '../support/sandbox';

let sandbox: Sandbox;
let adeleId: string;
let meganId: string;
let leeId: string;

const TEAMS_SCOPES = ['Team.ReadBasic.All', 'Channel.ReadBasic.All', 'ChannelMessage.Send', 'Chat.ReadWrite'];
const ALL_SCOPES = [...TEAMS_SCOPES, 'ChannelMessage.Read.All'];

const tokenFor = (user: string, scopes: string[] = ALL_SCOPES) => mintToken(sandbox, user, scopes);

async function appToken(roles: string[]): Promise<string> {
  return await mintAccessToken(sandbox.keys, {
    userId: 'a0a0a0a0-0000-4000-8000-000000000001',
    tenantId: sandbox.tenantId,
    clientId: 'app-only-client',
    scopes: [],
    roles,
    lifetimeSeconds: 3600,
    nowMs: sandbox.now(),
    issuerHost: sandbox.authorityHost,
  });
}

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & {
    value?: Array<Record<string, unknown>>;
    error?: { code: string; message: string };
    '@odata.nextLink'?: string;
  };
}

async function graph(token: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const url = path.startsWith('https://') ? path : `${sandbox.graphBaseUrl}${path}`;
  const res = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Answer['body']) : {} };
}

const enc = encodeURIComponent;
const channelPath = (channelId: string) => `/teams/${SEED_TEAM.id}/channels/${enc(channelId)}`;

beforeAll(async () => {
  sandbox = await startTestSandbox();
  adeleId = sandbox.directory.findUser('adele.vance@contoso.test')!.id;
  meganId = sandbox.directory.findUser('megan.bowen@contoso.test')!.id;
  leeId = sandbox.directory.findUser('lee.gu@contoso.test')!.id;
  sandbox.directory.addUser({ userPrincipalName: 'nestor.wilke@contoso.test', displayName: 'Nestor Wilke' });
  sandbox.directory.addUser({
    userPrincipalName: 'pat.personal@outlook.test',
    displayName: 'Pat Personal',
    accountType: 'personal',
  });
});
afterAll(async () => await sandbox.stop());
// Every test starts with fresh rate windows (the 4 rps limit would otherwise carry over).
beforeEach(async () => await controlCall(sandbox, 'PUT', '/throttle', { reset: true }));

describe('teams and channels', () => {
  test('joinedTeams lists the seeded team with only the basic properties (user-list-joinedteams.md)', async () => {
    const res = await graph(await tokenFor('adele.vance@contoso.test'), 'GET', '/me/joinedTeams');
    expect(res.status).toBe(200);
    expect(res.body.value).toEqual([
      expect.objectContaining({ id: SEED_TEAM.id, displayName: 'Contoso Launch', isArchived: false }),
    ]);
    // joinedTeams answers with id/displayName/description (+isArchived/tenantId); GET /teams/{id} has the rest.
    expect(Object.keys(res.body.value![0]!).sort()).toEqual(
      ['description', 'displayName', 'id', 'isArchived', 'tenantId'].sort(),
    );
    const nestor = await graph(await tokenFor('nestor.wilke@contoso.test'), 'GET', '/me/joinedTeams');
    expect(nestor.body.value).toEqual([]);
  });

  test('joinedTeams is me-only for delegated tokens; app-only uses /users/{id} (reference §7.6)', async () => {
    const other = await graph(
      await tokenFor('adele.vance@contoso.test'),
      'GET',
      `/users/${meganId}/joinedTeams`,
    );
    expect(other.status).toBe(403);
    expect(other.body.error?.code).toBe('Forbidden');

    const app = await appToken(['Team.ReadBasic.All']);
    const asApp = await graph(app, 'GET', `/users/${meganId}/joinedTeams`);
    expect(asApp.status).toBe(200);
    expect(asApp.body.value?.map((t) => t.id)).toEqual([SEED_TEAM.id]);
    // https://github.com/microsoftgraph/msgraph-sdk-php/issues/1163: /me needs a delegated token.
    const me = await graph(app, 'GET', '/me/joinedTeams');
    expect(me.status).toBe(400);
  });

  test('channels of a team; Teams error casing for unknown and foreign teams (reference §1.1)', async () => {
    const adele = await tokenFor('adele.vance@contoso.test');
    const res = await graph(adele, 'GET', `/teams/${SEED_TEAM.id}/channels`);
    expect(res.status).toBe(200);
    expect(res.body.value?.map((c) => c.displayName)).toEqual(['General', 'Marketing']);
    expect(res.body.value?.[0]).toMatchObject({ id: SEED_TEAM.general, membershipType: 'standard' });
    expect(String(res.body.value?.[0]?.id)).toMatch(/^19:[0-9a-f]{32}@thread\.tacv2$/);

    const filtered = await graph(
      adele,
      'GET',
      `/teams/${SEED_TEAM.id}/channels?$filter=displayName eq 'Marketing'`,
    );
    expect(filtered.body.value?.map((c) => c.id)).toEqual([SEED_TEAM.marketing]);

    const unknown = await graph(adele, 'GET', '/teams/00000000-0000-4000-8000-000000000000/channels');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error?.code).toBe('NotFound');

    const outsider = await graph(
      await tokenFor('nestor.wilke@contoso.test'),
      'GET',
      `/teams/${SEED_TEAM.id}/channels`,
    );
    expect(outsider.status).toBe(403);
    expect(outsider.body.error?.code).toBe('Forbidden');

    const channel = await graph(adele, 'GET', `${channelPath('19:nope@thread.tacv2')}`);
    expect(channel.status).toBe(404);
    expect(channel.body.error?.code).toBe('NotFound');
  });

  test('a missing permission is 403 Forbidden naming the scopes', async () => {
    const res = await graph(
      await tokenFor('adele.vance@contoso.test', ['User.Read']),
      'GET',
      '/me/joinedTeams',
    );
    expect(res.status).toBe(403);
    expect(res.body.error?.code).toBe('Forbidden');
    expect(res.body.error?.message).toContain('Team.ReadBasic.All');
  });

  test('personal (consumer) accounts have no Teams: 403 Forbidden', async () => {
    const pat = await tokenFor('pat.personal@outlook.test');
    for (const path of ['/me/joinedTeams', '/me/chats']) {
      const res = await graph(pat, 'GET', path);
      expect(res.status).toBe(403);
      expect(res.body.error?.code).toBe('Forbidden');
    }
  });
});

describe('channel messages', () => {
  test('the seeded channel lists top-level messages newest first; $expand=replies adds replies', async () => {
    const adele = await tokenFor('adele.vance@contoso.test');
    const res = await graph(adele, 'GET', `${channelPath(SEED_TEAM.general)}/messages?$expand=replies`);
    expect(res.status).toBe(200);
    const [latest, welcome] = res.body.value!;
    expect(latest).toMatchObject({ importance: 'high', replyToId: null });
    expect(welcome).toMatchObject({
      subject: 'Welcome',
      channelIdentity: { teamId: SEED_TEAM.id, channelId: SEED_TEAM.general },
    });
    expect(welcome!.replies).toEqual([expect.objectContaining({ replyToId: welcome!.id })]);
    expect(String(welcome!.id)).toMatch(/^\d{13}$/);
  });

  test('channel messages page 20 at a time with $skiptoken; $top is at most 50 (channel-list-messages.md)', async () => {
    const store = graphState(sandbox).store;
    const channelId = `19:${'a'.repeat(32)}@thread.tacv2`;
    const channels = store.collection(SEED_TEAM.id, TEAMS_COLLECTIONS.channels, { etag: 'none' });
    store.insert(channels, { id: channelId, displayName: 'Paging', membershipType: 'standard' });
    const adele = await tokenFor('adele.vance@contoso.test');
    for (let i = 0; i < 25; i++) {
      sandbox.advanceClock(260); // stay under 4 rps on the channel
      const res = await graph(adele, 'POST', `${channelPath(channelId)}/messages`, {
        body: { content: `m${i}` },
      });
      expect(res.status).toBe(201);
    }
    sandbox.advanceClock(1000); // reads count against the same channel budget
    const first = await graph(adele, 'GET', `${channelPath(channelId)}/messages`);
    expect(first.body.value).toHaveLength(20);
    expect(first.body.value?.[0]?.body).toEqual({ contentType: 'text', content: 'm24' });
    const next = first.body['@odata.nextLink']!;
    expect(next).toContain('$skiptoken=');
    sandbox.advanceClock(1000);
    const second = await graph(adele, 'GET', next);
    expect(second.body.value).toHaveLength(5);
    expect(second.body['@odata.nextLink']).toBeUndefined();

    const tooMany = await graph(adele, 'GET', `${channelPath(channelId)}/messages?$top=51`);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error?.code).toBe('BadRequest');
    sandbox.advanceClock(1000);
    const filter = await graph(
      adele,
      'GET',
      `${channelPath(channelId)}/messages?$filter=importance eq 'high'`,
    );
    expect(filter.status).toBe(400);
  });

  test('a message mentioning a user carries <at id="0"> and the mentions array (chatmessage-post.md)', async () => {
    const megan = await tokenFor('megan.bowen@contoso.test');
    const sent = await graph(megan, 'POST', `${channelPath(SEED_TEAM.marketing)}/messages`, {
      subject: 'Launch copy',
      importance: 'high',
      body: { contentType: 'html', content: '<p>Hi <at id="0">Lee Gu</at>, the copy is final.</p>' },
      mentions: [
        {
          id: 0,
          mentionText: 'Lee Gu',
          mentioned: { user: { id: leeId, displayName: 'Lee Gu', userIdentityType: 'aadUser' } },
        },
      ],
    });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({
      subject: 'Launch copy',
      importance: 'high',
      body: { contentType: 'html', content: '<p>Hi <at id="0">Lee Gu</at>, the copy is final.</p>' },
      from: { user: { id: meganId, displayName: 'Megan Bowen', userIdentityType: 'aadUser' } },
      mentions: [{ id: 0, mentionText: 'Lee Gu', mentioned: { user: { id: leeId, displayName: 'Lee Gu' } } }],
    });
    const list = await graph(megan, 'GET', `${channelPath(SEED_TEAM.marketing)}/messages`);
    expect(list.body.value?.[0]?.id).toBe(sent.body.id);
  });

  test('mentions must match <at> tags in an html body, and name real users', async () => {
    const megan = await tokenFor('megan.bowen@contoso.test');
    const post = async (body: unknown) =>
      await graph(megan, 'POST', `${channelPath(SEED_TEAM.marketing)}/messages`, body);
    const mention = (id: number, userId = leeId) => ({
      id,
      mentionText: 'Lee Gu',
      mentioned: { user: { id: userId } },
    });
    const cases = [
      { body: { contentType: 'text', content: '<at id="0">Lee Gu</at>' }, mentions: [mention(0)] },
      { body: { contentType: 'html', content: 'no tag' }, mentions: [mention(0)] },
      { body: { contentType: 'html', content: '<at id="1">Lee Gu</at>' }, mentions: [mention(0)] },
      {
        body: { contentType: 'html', content: '<at id="0">Ghost</at>' },
        mentions: [mention(0, 'not-a-user')],
      },
      { body: { content: '' } },
      { body: { content: 'x' }, importance: 'critical' },
    ];
    for (const c of cases) {
      sandbox.advanceClock(300);
      const res = await post(c);
      expect(res.status).toBe(400);
      expect(res.body.error?.code).toBe('BadRequest');
    }
  });

  test('replies go to a top-level message; a reply id is not a parent', async () => {
    const lee = await tokenFor('lee.gu@contoso.test');
    const parent = await graph(lee, 'POST', `${channelPath(SEED_TEAM.general)}/messages`, {
      body: { content: 'Standup at 10?' },
    });
    const reply = await graph(
      adele(),
      'POST',
      `${channelPath(SEED_TEAM.general)}/messages/${String(parent.body.id)}/replies`,
      {
        body: { content: 'Yes' },
      },
    );
    expect(reply.status).toBe(201);
    expect(reply.body.replyToId).toBe(parent.body.id);
    const replies = await graph(
      lee,
      'GET',
      `${channelPath(SEED_TEAM.general)}/messages/${String(parent.body.id)}/replies`,
    );
    expect(replies.body.value?.map((r) => r.id)).toEqual([reply.body.id]);
    const nested = await graph(
      lee,
      'POST',
      `${channelPath(SEED_TEAM.general)}/messages/${String(reply.body.id)}/replies`,
      {
        body: { content: 'nested' },
      },
    );
    expect(nested.status).toBe(404);
    expect(nested.body.error?.code).toBe('NotFound');
  });

  test('4 requests per second per app on a channel, then 429 with Retry-After (throttling-limits.md, reference §2.3)', async () => {
    const lee = await tokenFor('lee.gu@contoso.test');
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 5; i++) {
      const res = await graph(lee, 'POST', `${channelPath(SEED_TEAM.general)}/messages`, {
        body: { content: `burst ${i}` },
      });
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get('retry-after');
        expect(res.body.error?.code).toBe('TooManyRequests');
      }
    }
    expect(statuses).toEqual([201, 201, 201, 201, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect(Number(retryAfter)).toBeLessThanOrEqual(1);
    // Another channel of the same team has its own budget.
    const other = await graph(lee, 'POST', `${channelPath(SEED_TEAM.marketing)}/messages`, {
      body: { content: 'elsewhere' },
    });
    expect(other.status).toBe(201);
    // After Retry-After the channel accepts again.
    sandbox.advanceClock(1000);
    const again = await graph(lee, 'POST', `${channelPath(SEED_TEAM.general)}/messages`, {
      body: { content: 'later' },
    });
    expect(again.status).toBe(201);
  });

  test('sending as the app is refused outside migration (reference §7.6, observed error)', async () => {
    const noRole = await graph(
      await appToken(['ChannelMessage.Read.All']),
      'POST',
      `${channelPath(SEED_TEAM.general)}/messages`,
      {
        body: { content: 'from the app' },
      },
    );
    expect(noRole.status).toBe(403);
    expect(noRole.body.error?.code).toBe('Forbidden');
    expect(noRole.body.error?.message).toContain('Teamwork.Migrate.All');
    const migrate = await graph(
      await appToken(['Teamwork.Migrate.All']),
      'POST',
      `${channelPath(SEED_TEAM.general)}/messages`,
      {
        body: { content: 'from the app' },
      },
    );
    // https://github.com/microsoftgraph/microsoft-graph-docs-contrib/issues/1914
    expect(migrate.status).toBe(401);
    expect(migrate.body.error?.message).toContain('only for import purposes');
  });

  test('reading channel messages needs ChannelMessage.Read.All (admin consent)', async () => {
    const res = await graph(
      await tokenFor('adele.vance@contoso.test', TEAMS_SCOPES),
      'GET',
      `${channelPath(SEED_TEAM.general)}/messages`,
    );
    expect(res.status).toBe(403);
    expect(res.body.error?.message).toContain('ChannelMessage.Read.All');
  });
});

let adeleToken = '';
function adele(): string {
  return adeleToken;
}
beforeAll(async () => {
  adeleToken = await tokenFor('adele.vance@contoso.test');
});

describe('chats', () => {
  test('the seeded one-on-one chat, with members and the last message preview', async () => {
    const res = await graph(adele(), 'GET', '/me/chats?$expand=members,lastMessagePreview');
    expect(res.status).toBe(200);
    const chat = res.body.value?.find((c) => c.chatType === 'oneOnOne');
    expect(chat).toBeDefined();
    expect(String(chat!.id)).toBe(`19:${[adeleId, meganId].sort().join('_')}@unq.gbl.spaces`);
    expect((chat!.members as Array<{ userId: string }>).map((m) => m.userId).sort()).toEqual(
      [adeleId, meganId].sort(),
    );
    expect(chat!.lastMessagePreview).toMatchObject({ body: { content: 'Sure, calling you now.' } });

    const plain = await graph(adele(), 'GET', '/me/chats');
    expect(plain.body.value?.[0]).not.toHaveProperty('members');
    const lee = await graph(await tokenFor('lee.gu@contoso.test'), 'GET', '/me/chats');
    expect(lee.body.value?.some((c) => c.id === chat!.id)).toBe(false);
  });

  test('$top ≤ 50 and $orderby only lastMessagePreview/createdDateTime desc (chat-list.md)', async () => {
    expect((await graph(adele(), 'GET', '/me/chats?$top=51')).status).toBe(400);
    expect((await graph(adele(), 'GET', '/me/chats?$orderby=topic')).status).toBe(400);
    expect(
      (await graph(adele(), 'GET', '/me/chats?$orderby=lastMessagePreview/createdDateTime desc')).status,
    ).toBe(200);
    expect((await graph(adele(), 'GET', `/users/${meganId}/chats`)).status).toBe(403);
  });

  test('send and list chat messages; non-members cannot see the chat', async () => {
    const chatId = `19:${[adeleId, meganId].sort().join('_')}@unq.gbl.spaces`;
    const sent = await graph(adele(), 'POST', `/chats/${enc(chatId)}/messages`, {
      body: { contentType: 'html', content: '<b>Deck v2</b> is up' },
      importance: 'urgent',
    });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({
      chatId,
      channelIdentity: null,
      importance: 'urgent',
      from: { user: { id: adeleId } },
    });
    const list = await graph(
      await tokenFor('megan.bowen@contoso.test'),
      'GET',
      `/chats/${enc(chatId)}/messages?$top=2`,
    );
    expect(list.body.value?.map((m) => m.id)).toEqual([sent.body.id, expect.any(String)]);
    expect(list.body['@odata.nextLink']).toContain('$skiptoken=');
    expect((await graph(adele(), 'GET', `/chats/${enc(chatId)}/messages?$top=51`)).status).toBe(400);
    expect(
      (await graph(adele(), 'GET', `/chats/${enc(chatId)}/messages?$orderby=createdDateTime asc`)).status,
    ).toBe(400);

    const lee = await graph(await tokenFor('lee.gu@contoso.test'), 'GET', `/chats/${enc(chatId)}/messages`);
    expect(lee.status).toBe(404);
    expect(lee.body.error?.code).toBe('NotFound');
  });

  test('create chats: an existing one-on-one is returned; group chats get a thread id (chat-post.md)', async () => {
    const member = (upn: string) => ({
      '@odata.type': '#microsoft.graph.aadUserConversationMember',
      roles: ['owner'],
      'user@odata.bind': `https://graph.microsoft.com/v1.0/users('${upn}')`,
    });
    const existing = await graph(adele(), 'POST', '/chats', {
      chatType: 'oneOnOne',
      members: [member(adeleId), member('megan.bowen@contoso.test')],
    });
    expect(existing.status).toBe(201);
    expect(existing.body.id).toBe(`19:${[adeleId, meganId].sort().join('_')}@unq.gbl.spaces`);

    const group = await graph(adele(), 'POST', '/chats', {
      chatType: 'group',
      topic: 'Launch crew',
      members: [member(adeleId), member(meganId), member(leeId)],
    });
    expect(group.status).toBe(201);
    expect(group.body).toMatchObject({ chatType: 'group', topic: 'Launch crew' });
    expect(String(group.body.id)).toMatch(/^19:[0-9a-f]{32}@thread\.v2$/);
    const members = await graph(
      await tokenFor('lee.gu@contoso.test'),
      'GET',
      `/chats/${enc(String(group.body.id))}/members`,
    );
    expect(members.body.value).toHaveLength(3);

    const notMe = await graph(adele(), 'POST', '/chats', {
      chatType: 'oneOnOne',
      members: [member(meganId), member(leeId)],
    });
    expect(notMe.status).toBe(403);
    const topicOn1on1 = await graph(adele(), 'POST', '/chats', {
      chatType: 'oneOnOne',
      topic: 'x',
      members: [member(adeleId), member(leeId)],
    });
    expect(topicOn1on1.status).toBe(400);
    const unknownUser = await graph(adele(), 'POST', '/chats', {
      chatType: 'oneOnOne',
      members: [member(adeleId), member('nobody@contoso.test')],
    });
    expect(unknownUser.status).toBe(404);
  });

  test('app-only tokens cannot send chat messages', async () => {
    const chatId = `19:${[adeleId, meganId].sort().join('_')}@unq.gbl.spaces`;
    const res = await graph(
      await appToken(['Teamwork.Migrate.All']),
      'POST',
      `/chats/${enc(chatId)}/messages`,
      {
        body: { content: 'hi' },
      },
    );
    expect(res.status).toBe(401);
  });
});

describe('after sending: edit, delete, react, pin, images', () => {
  const PNG = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
    'base64',
  );
  const chatId = () => `19:${[adeleId, meganId].sort().join('_')}@unq.gbl.spaces`;
  const megan = () => tokenFor('megan.bowen@contoso.test');

  async function send(content: string, extra: Record<string, unknown> = {}) {
    const sent = await graph(adele(), 'POST', `/chats/${enc(chatId())}/messages`, {
      body: { contentType: 'html', content },
      ...extra,
    });
    expect(sent.status).toBe(201);
    return String(sent.body.id);
  }

  test('the sender edits a message (204, lastEditedDateTime); anyone else is refused 403', async () => {
    const id = await send('Draft figures');
    const path = `/chats/${enc(chatId())}/messages/${id}`;
    expect(
      (await graph(await megan(), 'PATCH', path, { body: { contentType: 'text', content: 'Hijack' } }))
        .status,
    ).toBe(403);
    const edit = await graph(adele(), 'PATCH', path, {
      body: { contentType: 'text', content: 'Final figures' },
    });
    expect(edit.status).toBe(204);
    const read = await graph(await megan(), 'GET', path);
    expect(read.body).toMatchObject({
      body: { content: 'Final figures' },
      lastEditedDateTime: expect.any(String),
    });
    expect((await graph(adele(), 'PATCH', path, { body: { content: '' } })).status).toBe(400);
    expect((await graph(adele(), 'PATCH', path, { createdDateTime: 'x' })).status).toBe(400);
  });

  test('soft delete through /users/{id}/chats keeps the message with deletedDateTime; undo restores it', async () => {
    const id = await send('Oops, wrong chat');
    const del = `/users/${adeleId}/chats/${enc(chatId())}/messages/${id}/softDelete`;
    expect(
      (await graph(await megan(), 'POST', `/me/chats/${enc(chatId())}/messages/${id}/softDelete`)).status,
    ).toBe(403);
    expect((await graph(adele(), 'POST', del)).status).toBe(204);
    const gone = await graph(await megan(), 'GET', `/chats/${enc(chatId())}/messages/${id}`);
    expect(gone.body).toMatchObject({ deletedDateTime: expect.any(String), body: { content: '' } });
    expect(gone.body).not.toHaveProperty('_deletedBody');
    // No /chats/{id}/.../softDelete: Graph names the unknown segment (400 BadRequest).
    expect((await graph(adele(), 'POST', `/chats/${enc(chatId())}/messages/${id}/softDelete`)).status).toBe(
      400,
    );
    expect((await graph(adele(), 'POST', del.replace('softDelete', 'undoSoftDelete'))).status).toBe(204);
    const back = await graph(adele(), 'GET', `/chats/${enc(chatId())}/messages/${id}`);
    expect(back.body).toMatchObject({ deletedDateTime: null, body: { content: 'Oops, wrong chat' } });
  });

  test('reactions: one of each per user, unset removes it, and a word that is not an emoji is refused', async () => {
    const id = await send('Ship it?');
    const path = `/chats/${enc(chatId())}/messages/${id}`;
    expect((await graph(await megan(), 'POST', `${path}/setReaction`, { reactionType: '👍' })).status).toBe(
      204,
    );
    expect((await graph(await megan(), 'POST', `${path}/setReaction`, { reactionType: '👍' })).status).toBe(
      204,
    );
    expect((await graph(adele(), 'POST', `${path}/setReaction`, { reactionType: '🎉' })).status).toBe(204);
    let read = await graph(adele(), 'GET', path);
    expect(
      (read.body.reactions as Array<{ reactionType: string; user: { user: { id: string } } }>).map((r) => [
        r.reactionType,
        r.user.user.id,
      ]),
    ).toEqual([
      ['👍', meganId],
      ['🎉', adeleId],
    ]);
    expect((await graph(await megan(), 'POST', `${path}/unsetReaction`, { reactionType: '👍' })).status).toBe(
      204,
    );
    read = await graph(adele(), 'GET', path);
    expect((read.body.reactions as unknown[]).length).toBe(1);
    expect((await graph(adele(), 'POST', `${path}/setReaction`, { reactionType: 'hooray' })).status).toBe(
      400,
    );
  });

  test('pinned messages: pin by @odata.bind, list with $expand=message, unpin', async () => {
    const id = await send('Agenda for Monday');
    const pins = `/chats/${enc(chatId())}/pinnedMessages`;
    const bind = `${sandbox.graphBaseUrl}/chats/${enc(chatId())}/messages/${id}`;
    const pinned = await graph(adele(), 'POST', pins, { 'message@odata.bind': bind });
    expect(pinned.status).toBe(201);
    const list = await graph(await megan(), 'GET', `${pins}?$expand=message`);
    expect(list.body.value).toEqual([
      expect.objectContaining({ id: pinned.body.id, message: expect.objectContaining({ id }) }),
    ]);
    const other = await graph(adele(), 'POST', pins, {
      'message@odata.bind': `${sandbox.graphBaseUrl}/chats/19:other@thread.v2/messages/${id}`,
    });
    expect(other.status).toBe(400);
    expect((await graph(adele(), 'DELETE', `${pins}/${String(pinned.body.id)}`)).status).toBe(204);
    expect((await graph(adele(), 'GET', pins)).body.value).toEqual([]);
  });

  test('an image sent as hosted content is stored with its URL and downloaded identical', async () => {
    const id = await send('<p>Chart:</p><img src="../hostedContents/1/$value" alt="chart">', {
      hostedContents: [
        {
          '@microsoft.graph.temporaryId': '1',
          contentBytes: PNG.toString('base64'),
          contentType: 'image/png',
        },
      ],
    });
    const path = `/chats/${enc(chatId())}/messages/${id}`;
    const read = await graph(await megan(), 'GET', path);
    const src = /src="([^"]+)"/.exec(String((read.body.body as { content: string }).content))![1]!;
    expect(src).toMatch(new RegExp(`/chats/.+/messages/${id}/hostedContents/[^/]+/\\$value$`));
    const list = await graph(await megan(), 'GET', `${path}/hostedContents`);
    expect(list.body.value).toHaveLength(1);
    const res = await fetch(src, { headers: { authorization: `Bearer ${await megan()}` } });
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await res.arrayBuffer()).equals(PNG)).toBe(true);
    const missing = await graph(adele(), 'POST', `/chats/${enc(chatId())}/messages`, {
      body: { contentType: 'html', content: '<p>no image tag</p>' },
      hostedContents: [
        {
          '@microsoft.graph.temporaryId': '1',
          contentBytes: PNG.toString('base64'),
          contentType: 'image/png',
        },
      ],
    });
    expect(missing.status).toBe(400);
  });
});

describe('channels and members', () => {
  const MANAGE = [
    'Channel.Create',
    'ChannelSettings.ReadWrite.All',
    'ChannelMember.ReadWrite.All',
    'TeamMember.ReadWrite.All',
    'Channel.ReadBasic.All',
    'Chat.ReadWrite',
  ];
  const manage = (user: string) => tokenFor(user, MANAGE);
  const bind = (id: string) => `${sandbox.graphBaseUrl}/users('${id}')`;
  const member = (id: string, roles: string[] = []) => ({
    '@odata.type': '#microsoft.graph.aadUserConversationMember',
    roles,
    'user@odata.bind': bind(id),
  });

  test('a private channel: the creator owns it, only members see it, the last owner stays', async () => {
    const adeleT = await manage('adele.vance@contoso.test');
    const created = await graph(adeleT, 'POST', `/teams/${SEED_TEAM.id}/channels`, {
      displayName: 'Board prep',
      membershipType: 'private',
      members: [member(meganId)],
    });
    expect(created.status).toBe(201);
    const id = String(created.body.id);
    const members = await graph(adeleT, 'GET', `${channelPath(id)}/members`);
    expect(members.body.value?.map((m) => [m.userId, m.roles])).toEqual(
      expect.arrayContaining([
        [adeleId, ['owner']],
        [meganId, []],
      ]),
    );
    const leeT = await manage('lee.gu@contoso.test');
    expect((await graph(leeT, 'GET', channelPath(id))).status).toBe(404);
    expect(
      (await graph(leeT, 'GET', `/teams/${SEED_TEAM.id}/channels`)).body.value?.some((c) => c.id === id),
    ).toBe(false);
    // Megan is a member, not an owner: she cannot add people.
    const meganT = await manage('megan.bowen@contoso.test');
    expect((await graph(meganT, 'POST', `${channelPath(id)}/members`, member(leeId))).status).toBe(403);
    const adeleMember = members.body.value!.find((m) => m.userId === adeleId)!;
    expect(
      (await graph(adeleT, 'DELETE', `${channelPath(id)}/members/${String(adeleMember.id)}`)).status,
    ).toBe(400);
    // Someone outside the team cannot join the private channel.
    const nestor = sandbox.directory.findUser('nestor.wilke@contoso.test')!.id;
    expect((await graph(adeleT, 'POST', `${channelPath(id)}/members`, member(nestor))).status).toBe(400);
  });

  test('names: unique in the team, no forbidden characters; General cannot be renamed or deleted', async () => {
    const adeleT = await manage('adele.vance@contoso.test');
    expect(
      (await graph(adeleT, 'POST', `/teams/${SEED_TEAM.id}/channels`, { displayName: 'marketing' })).status,
    ).toBe(400);
    expect(
      (await graph(adeleT, 'POST', `/teams/${SEED_TEAM.id}/channels`, { displayName: 'R&D' })).status,
    ).toBe(400);
    expect(
      (await graph(adeleT, 'PATCH', channelPath(SEED_TEAM.general), { displayName: 'Main' })).status,
    ).toBe(400);
    const del = await graph(
      await tokenFor('adele.vance@contoso.test', ['Channel.Delete.All']),
      'DELETE',
      channelPath(SEED_TEAM.general),
    );
    expect(del.status).toBe(400);
  });

  test('team members: owners add and remove; a standard channel has no members of its own to add', async () => {
    const adeleT = await manage('adele.vance@contoso.test');
    const nestor = sandbox.directory.findUser('nestor.wilke@contoso.test')!.id;
    const added = await graph(adeleT, 'POST', `/teams/${SEED_TEAM.id}/members`, member(nestor));
    expect(added.status).toBe(201);
    expect(
      (await graph(adeleT, 'POST', `${channelPath(SEED_TEAM.marketing)}/members`, member(nestor))).status,
    ).toBe(400);
    const leeT = await manage('lee.gu@contoso.test');
    expect(
      (await graph(leeT, 'DELETE', `/teams/${SEED_TEAM.id}/members/${String(added.body.id)}`)).status,
    ).toBe(403);
    expect(
      (await graph(adeleT, 'DELETE', `/teams/${SEED_TEAM.id}/members/${String(added.body.id)}`)).status,
    ).toBe(204);
  });

  test('chat members: a one-on-one chat cannot grow', async () => {
    const adeleT = await manage('adele.vance@contoso.test');
    const chatId = `19:${[adeleId, meganId].sort().join('_')}@unq.gbl.spaces`;
    const res = await graph(adeleT, 'POST', `/chats/${enc(chatId)}/members`, member(leeId, ['owner']));
    expect(res.status).toBe(400);
  });
});

describe('message delta', () => {
  /** A call on a channel, waiting out its 4-per-second limit (§2.3) as Retry-After says. */
  async function paced(token: string, method: string, path: string, body?: unknown): Promise<Answer> {
    for (;;) {
      const res = await graph(token, method, path, body);
      if (res.status !== 429) return res;
      await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? '1') * 1000));
    }
  }

  async function drain(
    token: string,
    url: string,
  ): Promise<{ items: Array<Record<string, unknown>>; deltaLink: string }> {
    const items: Array<Record<string, unknown>> = [];
    let next: string | undefined = url;
    for (;;) {
      const page = await graph(token, 'GET', next);
      if (page.status === 429) {
        // Teams allows 4 requests per second per channel (§2.3): wait as told, then the same page.
        await new Promise((r) => setTimeout(r, Number(page.headers.get('retry-after') ?? '1') * 1000));
        continue;
      }
      expect(page.status).toBe(200);
      items.push(...(page.body.value ?? []));
      if (page.body['@odata.nextLink']) next = page.body['@odata.nextLink'];
      else return { items, deltaLink: String(page.body['@odata.deltaLink']) };
    }
  }

  test('channel messages: a first round, then only new and changed top-level messages (not replies)', async () => {
    const token = adele();
    const base = `${channelPath(SEED_TEAM.marketing)}/messages`;
    const first = await drain(token, `${base}/delta?$top=2`);
    const before = await paced(token, 'GET', `${base}?$top=50`);
    expect(first.items.map((m) => m.id).sort()).toEqual(before.body.value!.map((m) => m.id).sort());
    expect(first.deltaLink).toContain('$deltatoken=');

    const fresh = await paced(token, 'POST', base, { body: { content: 'New launch date' } });
    const old = before.body.value![0]!;
    await paced(token, 'POST', `${base}/${String(old.id)}/replies`, { body: { content: 'A reply' } });
    const round = await drain(token, first.deltaLink);
    expect(round.items.map((m) => m.id)).toEqual([fresh.body.id]);
    const again = await drain(token, round.deltaLink);
    expect(again.items).toEqual([]);
  });

  test('channel delta: edits and deletes come back changed; bad options are 400', async () => {
    const token = adele();
    const base = `${channelPath(SEED_TEAM.general)}/messages`;
    const first = await drain(token, `${base}/delta?$top=50`);
    const sent = await paced(token, 'POST', base, { body: { content: 'Delta me' } });
    const id = String(sent.body.id);
    let round = await drain(token, first.deltaLink);
    expect(round.items.map((m) => m.id)).toEqual([id]);
    const manage = await tokenFor('adele.vance@contoso.test', ['ChannelMessage.ReadWrite', ...ALL_SCOPES]);
    expect(
      (await paced(manage, 'PATCH', `${base}/${id}`, { body: { content: 'Delta me (edited)' } })).status,
    ).toBe(204);
    expect((await paced(manage, 'POST', `${base}/${id}/softDelete`)).status).toBe(204);
    round = await drain(token, round.deltaLink);
    expect(round.items).toEqual([expect.objectContaining({ id, deletedDateTime: expect.any(String) })]);
    expect((await paced(token, 'GET', `${base}/delta?$top=51`)).status).toBe(400);
    expect((await paced(token, 'GET', `${base}/delta?$orderby=createdDateTime`)).status).toBe(400);
    const since = await drain(token, `${base}/delta?$filter=lastModifiedDateTime gt 2100-01-01T00:00:00Z`);
    expect(since.items).toEqual([]);
  });

  test('chats have no message delta on v1.0 (§5.2): 400, not a message called "delta"', async () => {
    const chatId = `19:${[adeleId, meganId].sort().join('_')}@unq.gbl.spaces`;
    const res = await graph(adele(), 'GET', `/chats/${enc(chatId)}/messages/delta`);
    expect(res.status).toBe(400);
    expect(res.body.error?.message).toContain('not supported');
  });
});
