/**
 * Teams actions end to end over HTTP against the sandbox: teams and channels, channel messages
 * with @mentions and replies, chats, paced bursts (4 requests per second per channel, reference
 * §2.3 / https://learn.microsoft.com/graph/throttling-limits#microsoft-teams-service-limits), and
 * the error paths a caller sees.
 */
import { SEED_TEAM } from '../../sandbox/graph/teams';
import { controlCall, injectFault, requestLog, TEST_APP } from '../support/sandbox';
import { startTestApp, type TestApp } from '../support/app';

const ADELE = 'adele.vance@contoso.test';
let t: TestApp;
let adele: string;
let adeleOid: string;
let meganOid: string;
let leeOid: string;

interface Message {
  id: string;
  replyToId: string | null;
  contentType: string;
  content: string;
  importance: string;
  subject: string | null;
  from: { userId: string | null; displayName: string | null } | null;
  mentions: Array<{ id: number; text: string | null; userId: string | null; displayName: string | null }>;
  replies?: Message[];
}

async function call<T = Record<string, unknown>>(
  userId: string,
  action: string,
  input: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const res = await t.call(userId, 'POST', `/teams/${action}`, input, headers);
  return { status: res.status, body: (await res.json()) as T };
}

beforeAll(async () => {
  t = await startTestApp();
  // ChannelMessage.Read.All needs an administrator's consent (teams-history feature).
  await controlCall(t.sandbox, 'PATCH', `/apps/${TEST_APP.clientId}`, {
    adminConsentedScopes: ['ChannelMessage.Read.All'],
  });
  adele = await t.connect(ADELE, { features: ['teams', 'teams-history'] });
  adeleOid = t.sandbox.directory.findUser(ADELE)!.id;
  meganOid = t.sandbox.directory.findUser('megan.bowen@contoso.test')!.id;
  leeOid = t.sandbox.directory.findUser('lee.gu@contoso.test')!.id;
});
afterAll(async () => await t.stop());

describe('teams and channels', () => {
  test('the joined team and its channels', async () => {
    const teams = await call<{ items: Array<Record<string, unknown>> }>(adele, 'listJoinedTeams', {});
    expect(teams.status).toBe(200);
    expect(teams.body.items).toEqual([
      { id: SEED_TEAM.id, displayName: 'Contoso Launch', description: expect.any(String), isArchived: false },
    ]);
    const channels = await call<{ items: Array<Record<string, unknown>> }>(adele, 'listChannels', {
      teamId: SEED_TEAM.id,
    });
    expect(channels.status).toBe(200);
    expect(channels.body.items.map((c) => [c.displayName, c.id, c.teamId])).toEqual([
      ['General', SEED_TEAM.general, SEED_TEAM.id],
      ['Marketing', SEED_TEAM.marketing, SEED_TEAM.id],
    ]);
  });

  test('seeded channel messages come newest first, with replies on request', async () => {
    const res = await call<{ items: Message[] }>(adele, 'listChannelMessages', {
      teamId: SEED_TEAM.id,
      channelId: SEED_TEAM.general,
      includeReplies: true,
    });
    expect(res.status).toBe(200);
    const welcome = res.body.items.find((m) => m.subject === 'Welcome')!;
    expect(welcome.from).toMatchObject({ userId: adeleOid, displayName: 'Adele Vance' });
    expect(welcome.replies).toEqual([
      expect.objectContaining({ replyToId: welcome.id, content: 'Thanks Adele, glad to be on board.' }),
    ]);
  });
});

describe('channel messages', () => {
  test('a message mentioning a user carries <at id="0">Name</at> and the mentions array, and appears in the channel', async () => {
    const sent = await call<Message>(adele, 'sendChannelMessage', {
      teamId: SEED_TEAM.id,
      channelId: SEED_TEAM.marketing,
      subject: 'Deck review',
      importance: 'high',
      text: 'Thanks @{0} & team,\nthe deck is <final>.',
      mentions: [{ userId: meganOid, displayName: 'Megan Bowen' }],
    });
    expect(sent.status).toBe(201);
    // Mentions need an HTML body whose <at id="N"> tags match mentions[].id (chatmessage-post.md).
    expect(sent.body).toMatchObject({
      contentType: 'html',
      content: 'Thanks <at id="0">Megan Bowen</at> &amp; team,<br>the deck is &lt;final&gt;.',
      subject: 'Deck review',
      importance: 'high',
      from: { userId: adeleOid },
      mentions: [{ id: 0, text: 'Megan Bowen', userId: meganOid, displayName: 'Megan Bowen' }],
    });
    const list = await call<{ items: Message[] }>(adele, 'listChannelMessages', {
      teamId: SEED_TEAM.id,
      channelId: SEED_TEAM.marketing,
      top: 5,
    });
    expect(list.body.items[0]).toEqual(sent.body);
  });

  test('several mentions and HTML input; every placeholder must match a mention', async () => {
    const ok = await call<Message>(adele, 'sendChannelMessage', {
      teamId: SEED_TEAM.id,
      channelId: SEED_TEAM.general,
      format: 'html',
      text: '<p>@{1} and @{0}: <b>standup</b> moved</p>',
      mentions: [
        { userId: meganOid, displayName: 'Megan' },
        { userId: leeOid, displayName: 'Lee' },
      ],
    });
    expect(ok.status).toBe(201);
    expect(ok.body.content).toBe(
      '<p><at id="1">Lee</at> and <at id="0">Megan</at>: <b>standup</b> moved</p>',
    );
    expect(ok.body.mentions.map((m) => [m.id, m.userId])).toEqual([
      [0, meganOid],
      [1, leeOid],
    ]);

    const base = { teamId: SEED_TEAM.id, channelId: SEED_TEAM.general };
    const unknownPlaceholder = await call<{ code: string; errors: Array<{ field: string }> }>(
      adele,
      'sendChannelMessage',
      {
        ...base,
        text: 'hi @{1}',
        mentions: [{ userId: meganOid, displayName: 'Megan' }],
      },
    );
    expect(unknownPlaceholder.status).toBe(400);
    expect(unknownPlaceholder.body.errors).toEqual([
      { field: 'text', message: expect.stringContaining('@{1}') },
    ]);
    const unplaced = await call<{ errors: Array<{ field: string }> }>(adele, 'sendChannelMessage', {
      ...base,
      text: 'hi',
      mentions: [{ userId: meganOid, displayName: 'Megan' }],
    });
    expect(unplaced.status).toBe(400);
    expect(unplaced.body.errors[0]?.field).toBe('mentions.0');
    const both = await call<{ errors: Array<{ field: string }> }>(adele, 'sendChannelMessage', {
      ...base,
      text: '@{0}',
      mentions: [{ userId: meganOid, upn: 'megan.bowen@contoso.test' }],
    });
    expect(both.status).toBe(400);
    expect(both.body.errors[0]?.field).toBe('mentions.0');
  });

  test('mentioning by upn in a channel resolves the user (User.ReadBasic.All, part of the teams feature)', async () => {
    const res = await call<Message>(adele, 'sendChannelMessage', {
      teamId: SEED_TEAM.id,
      channelId: SEED_TEAM.general,
      text: 'ping @{0}',
      mentions: [{ upn: 'lee.gu@contoso.test' }],
    });
    expect(res.status).toBe(201);
    expect(res.body.content).toContain('<at id="0">Lee Gu</at>');
    expect(res.body.mentions).toEqual([expect.objectContaining({ id: 0, displayName: 'Lee Gu' })]);
  });

  test('reply to a message and list the replies', async () => {
    const base = { teamId: SEED_TEAM.id, channelId: SEED_TEAM.general };
    const parent = await call<Message>(adele, 'sendChannelMessage', {
      ...base,
      text: 'Release notes draft is up',
    });
    const reply = await call<Message>(adele, 'replyToChannelMessage', {
      ...base,
      messageId: parent.body.id,
      text: 'Added the FAQ',
    });
    expect(reply.status).toBe(201);
    expect(reply.body.replyToId).toBe(parent.body.id);
    const replies = await call<{ items: Message[] }>(adele, 'listReplies', {
      ...base,
      messageId: parent.body.id,
    });
    expect(replies.body.items.map((r) => r.content)).toEqual(['Added the FAQ']);
    const missing = await call<{ code: string }>(adele, 'replyToChannelMessage', {
      ...base,
      messageId: '1',
      text: 'x',
    });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('not_found');
  });

  test('a burst of 20 channel posts completes without a 429 reaching the caller (or Graph answering one)', async () => {
    const since = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;
    const started = Date.now();
    const results = await Promise.all(
      Array.from(
        { length: 20 },
        async (_, i) =>
          await call<Message>(adele, 'sendChannelMessage', {
            teamId: SEED_TEAM.id,
            channelId: SEED_TEAM.marketing,
            text: `burst ${i}`,
          }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    const posts = (await requestLog(t.sandbox, since)).filter(
      (e) =>
        e.method === 'POST' &&
        decodeURIComponent(e.path).endsWith(`/channels/${SEED_TEAM.marketing}/messages`),
    );
    expect(posts).toHaveLength(20);
    // Paced on our side: Graph never had to say 429, and no 5 posts arrived within one second.
    expect(posts.filter((p) => p.status === 429)).toEqual([]);
    const starts = posts.map((p) => p.startedAt).sort((a, b) => a - b);
    for (let i = 4; i < starts.length; i++) expect(starts[i]! - starts[i - 4]!).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4000);
    const list = await call<{ items: Message[] }>(adele, 'listChannelMessages', {
      teamId: SEED_TEAM.id,
      channelId: SEED_TEAM.marketing,
      top: 50,
    });
    const contents = new Set(list.body.items.map((m) => m.content));
    for (let i = 0; i < 20; i++) expect(contents.has(`burst ${i}`)).toBe(true);
  }, 30_000);

  test('a 429 that slips through (e.g. from another instance) is retried after Retry-After', async () => {
    await injectFault(t.sandbox, {
      method: 'POST',
      path: `/channels/[^/]+/messages$`,
      userId: adeleOid,
      status: 429,
      headers: { 'retry-after': '1' },
      count: 1,
    });
    const since = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;
    const res = await call<Message>(adele, 'sendChannelMessage', {
      teamId: SEED_TEAM.id,
      channelId: SEED_TEAM.general,
      text: 'after a 429',
    });
    expect(res.status).toBe(201);
    expect(res.body.content).toBe('after a 429');
    const posts = (await requestLog(t.sandbox, since)).filter(
      (e) => e.method === 'POST' && e.path.endsWith('/messages'),
    );
    expect(posts.map((p) => p.status)).toEqual([429, 201]);
    expect(posts[1]!.startedAt - posts[0]!.startedAt).toBeGreaterThanOrEqual(1000);
  });

  test('pages of channel messages follow nextCursor', async () => {
    const first = await call<{ items: Message[]; nextCursor?: string }>(adele, 'listChannelMessages', {
      teamId: SEED_TEAM.id,
      channelId: SEED_TEAM.marketing,
      top: 10,
    });
    expect(first.body.items).toHaveLength(10);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await call<{ items: Message[] }>(adele, 'listChannelMessages', {
      teamId: SEED_TEAM.id,
      channelId: SEED_TEAM.marketing,
      cursor: first.body.nextCursor,
    });
    expect(second.body.items.length).toBeGreaterThan(0);
    expect(second.body.items.map((m) => m.id)).not.toContain(first.body.items[0]!.id);
    const wrong = await call<{ code: string }>(adele, 'listReplies', {
      teamId: SEED_TEAM.id,
      channelId: SEED_TEAM.marketing,
      messageId: '1',
      cursor: first.body.nextCursor,
    });
    expect(wrong.status).toBe(400);
  });
});

describe('chats', () => {
  const chatId = () => `19:${[adeleOid, meganOid].sort().join('_')}@unq.gbl.spaces`;

  test('list chats with members, then send and read a chat message mentioning a member by upn', async () => {
    const chats = await call<{
      items: Array<{ id: string; chatType: string; members: Array<{ userId: string }> }>;
    }>(adele, 'listChats', {});
    expect(chats.status).toBe(200);
    const oneOnOne = chats.body.items.find((c) => c.id === chatId())!;
    expect(oneOnOne.chatType).toBe('oneOnOne');
    expect(oneOnOne.members.map((m) => m.userId).sort()).toEqual([adeleOid, meganOid].sort());

    // Chat members are resolved from the chat itself: a upn works without directory permissions.
    const sent = await call<Message>(adele, 'sendChatMessage', {
      chatId: chatId(),
      importance: 'urgent',
      text: '@{0} deck is ready',
      mentions: [{ upn: 'megan.bowen@contoso.test' }],
    });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({
      importance: 'urgent',
      content: '<at id="0">Megan Bowen</at> deck is ready',
      mentions: [{ id: 0, userId: meganOid, displayName: 'Megan Bowen' }],
    });
    const messages = await call<{ items: Message[] }>(adele, 'listChatMessages', {
      chatId: chatId(),
      top: 2,
    });
    expect(messages.body.items[0]?.id).toBe(sent.body.id);
  });

  test('start chats: the existing one-on-one is returned, a group chat is created', async () => {
    const existing = await call<{ id: string; chatType: string }>(adele, 'createChat', {
      participants: [{ upn: 'megan.bowen@contoso.test' }],
    });
    expect(existing.status).toBe(201);
    expect(existing.body).toMatchObject({ id: chatId(), chatType: 'oneOnOne' });

    const group = await call<{ id: string; chatType: string; topic: string }>(adele, 'createChat', {
      participants: [{ userId: meganOid }, { upn: 'lee.gu@contoso.test' }],
      topic: 'Launch crew',
    });
    expect(group.status).toBe(201);
    expect(group.body).toMatchObject({ chatType: 'group', topic: 'Launch crew' });
    const hello = await call<Message>(adele, 'sendChatMessage', { chatId: group.body.id, text: 'Welcome!' });
    expect(hello.status).toBe(201);

    const topicOnOneOnOne = await call<{ errors: Array<{ field: string }> }>(adele, 'createChat', {
      participants: [{ userId: leeOid }],
      topic: 'x',
    });
    expect(topicOnOneOnOne.status).toBe(400);
    expect(topicOnOneOnOne.body.errors[0]?.field).toBe('topic');
    const stranger = await call<{ code: string; errors: Array<{ field: string }> }>(adele, 'createChat', {
      participants: [{ upn: 'nobody@contoso.test' }],
    });
    expect(stranger.status).toBe(400);
    expect(stranger.body.errors[0]?.field).toBe('participants');
  });

  test('a chat the user is not in is not found', async () => {
    const res = await call<{ code: string }>(adele, 'sendChatMessage', {
      chatId: '19:deadbeef@thread.v2',
      text: 'hi',
    });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('not_found');
  });
});

describe('errors and permissions', () => {
  test('unknown team or channel → not_found; a team the user is not in → forbidden', async () => {
    const unknownTeam = await call<{ code: string }>(adele, 'listChannels', {
      teamId: '00000000-0000-4000-8000-000000000000',
    });
    expect(unknownTeam.status).toBe(404);
    expect(unknownTeam.body.code).toBe('not_found');
    const unknownChannel = await call<{ code: string }>(adele, 'sendChannelMessage', {
      teamId: SEED_TEAM.id,
      channelId: '19:nope@thread.tacv2',
      text: 'x',
    });
    expect(unknownChannel.status).toBe(404);

    t.sandbox.directory.addUser({
      userPrincipalName: 'nestor.wilke@contoso.test',
      displayName: 'Nestor Wilke',
    });
    const nestor = await t.connect('nestor.wilke@contoso.test', { features: ['teams'] });
    const outsider = await call<{ code: string; detail: string }>(nestor, 'sendChannelMessage', {
      teamId: SEED_TEAM.id,
      channelId: SEED_TEAM.general,
      text: 'let me in',
    });
    expect(outsider.status).toBe(403);
    expect(outsider.body.code).toBe('forbidden');
    expect(outsider.body.detail).toContain('member');
    expect(outsider.body.detail).toContain('as the app');
    expect((await call<{ items: unknown[] }>(nestor, 'listJoinedTeams', {})).body.items).toEqual([]);
  });

  test('reading channel history needs the teams-history feature', async () => {
    const megan = await t.connect('megan.bowen@contoso.test', { features: ['teams'] });
    const res = await call<{ code: string; feature: string }>(megan, 'listChannelMessages', {
      teamId: SEED_TEAM.id,
      channelId: SEED_TEAM.general,
    });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'feature_not_granted', feature: 'teams-history' });
    // Posting only needs the teams feature.
    const post = await call<Message>(megan, 'sendChannelMessage', {
      teamId: SEED_TEAM.id,
      channelId: SEED_TEAM.general,
      text: 'hi all',
    });
    expect(post.status).toBe(201);
    expect(post.body.from?.userId).toBe(meganOid);
  });

  test('bad input is named field by field', async () => {
    const res = await call<{ code: string; errors: Array<{ field: string }> }>(adele, 'sendChannelMessage', {
      teamId: 'not-a-guid',
      channelId: SEED_TEAM.general,
      text: '',
      importance: 'urgent',
    });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e) => e.field).sort()).toEqual(['importance', 'teamId', 'text']);
    const top = await call<{ errors: Array<{ field: string }> }>(adele, 'listChats', { top: 51 });
    expect(top.status).toBe(400);
    expect(top.body.errors[0]?.field).toBe('top');
  });
});
