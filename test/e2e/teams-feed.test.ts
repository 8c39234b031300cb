/**
 * Teams in the change feed (issue 27, part 3): a message another user posts in a chat reaches the
 * change feed once, within seconds, through the user's chat subscription (its notification names
 * the chat, whose round lists what changed since the last one: v1.0 has no chat delta); an edit and
 * a deletion follow; a message whose notification never came is caught up by the timer's round
 * over the user's chats. Summaries carry the sender, the chat, the first characters and whether the
 * user is mentioned. Channels are followed by choice (teams.followChannel, by channel delta and a
 * subscription per channel) and unfollowed.
 */
import { InvocationContext } from '@azure/functions';
import { SEED_TEAM } from '../../sandbox/graph/teams';
import type { ChangeEntry } from '../../shared/sync/feed';
import { channelKey, chatKey } from '../../shared/sync/teams';
import { handleSyncJob } from '../../shared/sync/worker';
import { startTestApp, type TestApp } from '../support/app';
import { controlCall, mintToken, TEST_APP, waitFor, waitForQuiet } from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const quiet = () => new InvocationContext({ functionName: 'syncWorker', logHandler: () => undefined });

let t: TestApp;
let adele: string;
let adeleId: string;
let chatId: string;
let meganToken: string;

async function teamsFeed(): Promise<ChangeEntry[]> {
  const res = await t.call(adele, 'GET', '/changes?service=teams&limit=1000');
  expect(res.status).toBe(200);
  return ((await res.json()) as Json).items as ChangeEntry[];
}

/** Megan writes in her 1:1 chat with Adele straight through Graph, as Teams would. */
async function meganSays(html: string, mentionAdele = false): Promise<string> {
  const res = await fetch(`${t.sandbox.graphBaseUrl}/chats/${encodeURIComponent(chatId)}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${meganToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      body: { contentType: 'html', content: html },
      ...(mentionAdele
        ? {
            mentions: [
              {
                id: 0,
                mentionText: 'Adele Vance',
                mentioned: { user: { id: adeleId, displayName: 'Adele Vance', userIdentityType: 'aadUser' } },
              },
            ],
          }
        : {}),
    }),
  });
  expect(res.status).toBe(201);
  return String(((await res.json()) as Json).id);
}

/** Every notification delivered and the app idle: what the feed holds now is final. */
async function settled(): Promise<void> {
  await waitFor(
    async () =>
      (await controlCall<{ outstanding: number }>(t.sandbox, 'GET', '/subscriptions/stats?last=0'))
        .outstanding === 0,
    30000,
  );
  await waitForQuiet(t.sandbox, 1000, 30000);
}

const entriesFor = (entries: ChangeEntry[], id: string) => entries.filter((e) => e.id === id);

beforeAll(async () => {
  t = await startTestApp({ env: { TEAMS_CHAT_SUBSCRIPTIONS_ENABLED: 'true' } });
  await controlCall(t.sandbox, 'PATCH', `/apps/${TEST_APP.clientId}`, {
    adminConsentedScopes: ['ChannelMessage.Read.All'],
  });
  adele = await t.connect(ADELE, { features: ['teams', 'teams-history'] });
  adeleId = t.sandbox.directory.findUser(ADELE)!.id;
  const meganId = t.sandbox.directory.findUser(MEGAN)!.id;
  chatId = `19:${[adeleId, meganId].sort().join('_')}@unq.gbl.spaces`;
  meganToken = await mintToken(
    t.sandbox,
    MEGAN,
    ['ChatMessage.Send', 'Chat.ReadWrite', 'ChannelMessage.Send'],
    {
      lifetimeSeconds: 3600,
    },
  );
  // The connect's first rounds and the chat subscription are in place before anything is said.
  await waitFor(async () => {
    const subs = (await controlCall<{ value: Json[] }>(t.sandbox, 'GET', '/subscriptions')).value;
    return subs.some((s) => s.resource === `users/${adeleId}/chats/getAllMessages`);
  }, 30000);
  await settled();
}, 90000);
afterAll(async () => await t.stop());

test('a message from a colleague arrives once through the webhook, then its edit and its deletion', async () => {
  expect(await teamsFeed()).toEqual([]);
  const id = await meganSays('<p><at id="0">Adele Vance</at> can you check the <b>Q3 numbers</b>?</p>', true);

  const arrived = await waitFor(async () => entriesFor(await teamsFeed(), id)[0], 15000);
  expect(arrived).toMatchObject({
    service: 'teams',
    type: 'created',
    resource: chatKey(chatId),
    summary: {
      from: 'Megan Bowen',
      fromMe: false,
      chatId,
      mentions: ['Adele Vance'],
      mentionsMe: true,
    },
  });
  expect(arrived.summary!.preview).toBe('Adele Vance can you check the Q3 numbers?');

  // Megan corrects it: one update. Then she deletes it: one deletion.
  const patched = await fetch(
    `${t.sandbox.graphBaseUrl}/chats/${encodeURIComponent(chatId)}/messages/${id}`,
    {
      method: 'PATCH',
      headers: { authorization: `Bearer ${meganToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ body: { contentType: 'html', content: '<p>Q4 numbers, sorry</p>' } }),
    },
  );
  expect(patched.status).toBe(204);
  await waitFor(async () => entriesFor(await teamsFeed(), id).some((e) => e.type === 'updated'), 15000);

  const meganId = t.sandbox.directory.findUser(MEGAN)!.id;
  const deleted = await fetch(
    `${t.sandbox.graphBaseUrl}/users/${meganId}/chats/${encodeURIComponent(chatId)}/messages/${id}/softDelete`,
    { method: 'POST', headers: { authorization: `Bearer ${meganToken}` } },
  );
  expect(deleted.status).toBe(204);
  await waitFor(async () => entriesFor(await teamsFeed(), id).some((e) => e.type === 'deleted'), 15000);

  await settled();
  const all = entriesFor(await teamsFeed(), id);
  expect(all.map((e) => e.type)).toEqual(['created', 'updated', 'deleted']);
  expect(all[1]!.summary!.preview).toBe('Q4 numbers, sorry');
}, 90000);

test('a message whose notification never came is caught up by the timer round over the chats', async () => {
  const silenced = await controlCall<{ silenced: string[] }>(t.sandbox, 'PUT', '/subscriptions/silence', {
    user: ADELE,
    silent: true,
  });
  expect(silenced.silenced.length).toBeGreaterThan(0);
  const id = await meganSays('<p>Lunch at noon?</p>');
  await settled();
  expect(entriesFor(await teamsFeed(), id)).toEqual([]);

  // The sync timer's safety-net round over the user's chats finds the chat with news.
  const outcome = await waitFor(async () => {
    const o = await handleSyncJob({ userId: adele, resource: 'teams:chats', reason: 'timer' }, quiet());
    return o.status === 'completed' ? o : undefined;
  }, 30000);
  expect('found' in outcome && outcome.found?.resources).toEqual([chatKey(chatId)]);
  await waitFor(async () => entriesFor(await teamsFeed(), id).length > 0, 15000);
  await controlCall(t.sandbox, 'PUT', '/subscriptions/silence', { user: ADELE, silent: false });

  // Once, however many rounds look again.
  await handleSyncJob({ userId: adele, resource: chatKey(chatId), reason: 'timer' }, quiet());
  await settled();
  const entries = entriesFor(await teamsFeed(), id);
  expect(entries).toHaveLength(1);
  expect(entries[0]!.summary).toMatchObject({
    from: 'Megan Bowen',
    preview: 'Lunch at noon?',
    mentionsMe: false,
  });
}, 90000);

test('the user’s own message is in the feed marked fromMe', async () => {
  const res = await t.call(adele, 'POST', '/teams/sendChatMessage', { chatId, text: 'On my way' });
  expect(res.status).toBe(201);
  const id = String(((await res.json()) as Json).id);
  const entry = await waitFor(async () => entriesFor(await teamsFeed(), id)[0], 15000);
  expect(entry.summary).toMatchObject({ fromMe: true, from: 'Adele Vance', preview: 'On my way' });
}, 60000);

test('a followed channel: a post arrives once through its own subscription; unfollowed, nothing more', async () => {
  const follow = async (action: string) => {
    const res = await t.call(adele, 'POST', `/teams/${action}`, {
      teamId: SEED_TEAM.id,
      channelId: SEED_TEAM.marketing,
    });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const meganPosts = async (text: string): Promise<string> => {
    const url = `${t.sandbox.graphBaseUrl}/teams/${SEED_TEAM.id}/channels/${encodeURIComponent(SEED_TEAM.marketing)}/messages`;
    for (;;) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${meganToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ body: { content: text } }),
      });
      // Channels take 4 requests a second: wait out a 429 as a client would.
      if (res.status === 429) {
        await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? 1)));
        continue;
      }
      expect(res.status).toBe(201);
      return String(((await res.json()) as Json).id);
    }
  };

  const followed = await follow('followChannel');
  expect(followed).toMatchObject({
    status: 200,
    body: { resource: channelKey(SEED_TEAM.id, SEED_TEAM.marketing), status: 'running' },
  });
  const resource = `teams/${SEED_TEAM.id}/channels/${SEED_TEAM.marketing}/messages`;
  await waitFor(async () => {
    const subs = (await controlCall<{ value: Json[] }>(t.sandbox, 'GET', '/subscriptions')).value;
    return subs.some((s) => decodeURIComponent(String(s.resource)) === resource);
  }, 30000);
  await settled();
  // What was posted before following is history, not news.
  const before = (await teamsFeed()).filter((e) => e.resource === followed.body.resource);
  expect(before).toEqual([]);

  const id = await meganPosts('Campaign brief is ready');
  const entry = await waitFor(async () => entriesFor(await teamsFeed(), id)[0], 15000);
  expect(entry).toMatchObject({
    type: 'created',
    resource: followed.body.resource,
    summary: {
      from: 'Megan Bowen',
      teamId: SEED_TEAM.id,
      channelId: SEED_TEAM.marketing,
      preview: 'Campaign brief is ready',
    },
  });
  const listed = await t.call(adele, 'POST', '/teams/listFollowedChannels', {});
  expect(((await listed.json()) as Json).items).toEqual([
    // Synced at least once; a trailing round may be running right now.
    expect.objectContaining({ channelId: SEED_TEAM.marketing, lastSyncedAt: expect.any(String) }),
  ]);

  expect((await follow('unfollowChannel')).body).toEqual({
    teamId: SEED_TEAM.id,
    channelId: SEED_TEAM.marketing,
    stopped: true,
  });
  const later = await meganPosts('Nobody follows this any more');
  await settled();
  expect(entriesFor(await teamsFeed(), later)).toEqual([]);
  expect(entriesFor(await teamsFeed(), id)).toHaveLength(1);
}, 90000);

test('following a channel needs teams-history; a channel that does not exist is a clear 404', async () => {
  const res = await t.call(adele, 'POST', '/teams/followChannel', {
    teamId: SEED_TEAM.id,
    channelId: '19:nothere@thread.tacv2',
  });
  expect(res.status).toBe(404);
  expect(((await res.json()) as Json).code).toBe('not_found');

  const lee = await t.connect('lee.gu@contoso.test', { features: ['teams'] });
  const refused = await t.call(lee, 'POST', '/teams/followChannel', {
    teamId: SEED_TEAM.id,
    channelId: SEED_TEAM.marketing,
  });
  const problem = (await refused.json()) as Json;
  expect([refused.status, problem.code]).toEqual([403, 'feature_not_granted']);
  expect(problem.detail).toContain('teams-history');
}, 30000);
