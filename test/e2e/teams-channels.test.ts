/**
 * Teams channels and members (issue 27): a private channel with a member, its members listed and
 * removed, channel names checked, team members, and group chat members.
 */
import { SEED_TEAM } from '../../sandbox/graph/teams';
import { startTestApp, type TestApp } from '../support/app';
import { controlCall, mintToken, TEST_APP } from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const LEE = 'lee.gu@contoso.test';

let t: TestApp;
let adele: string;
let lee: string;

async function call(user: string, action: string, input: unknown): Promise<{ status: number; body: Json }> {
  const res = await t.call(user, 'POST', `/teams/${action}`, input);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Json };
}

async function ok(user: string, action: string, input: unknown): Promise<Json> {
  const res = await call(user, action, input);
  if (res.status >= 300) throw new Error(`${action} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const MANAGE = [
  'ChannelMessage.ReadWrite',
  'Channel.Create',
  'ChannelSettings.ReadWrite.All',
  'ChannelMember.ReadWrite.All',
  'TeamMember.ReadWrite.All',
];

beforeAll(async () => {
  t = await startTestApp();
  await controlCall(t.sandbox, 'PATCH', `/apps/${TEST_APP.clientId}`, { adminConsentedScopes: MANAGE });
  adele = await t.connect(ADELE, { features: ['teams', 'teams-manage'] });
  lee = await t.connect(LEE, { features: ['teams', 'teams-manage'] });
});
afterAll(async () => await t.stop());

test('a private channel with a member: only its members see it; members listed and removed', async () => {
  const channel = await ok(adele, 'createChannel', {
    teamId: SEED_TEAM.id,
    name: 'Launch war room',
    description: 'Owners only',
    private: true,
    members: [MEGAN],
  });
  expect(channel).toMatchObject({
    displayName: 'Launch war room',
    membershipType: 'private',
    teamId: SEED_TEAM.id,
  });

  const listed = await ok(adele, 'listMembers', { teamId: SEED_TEAM.id, channelId: channel.id });
  expect((listed.items as Json[]).map((m) => [String(m.email), m.roles as string[]])).toEqual(
    expect.arrayContaining([
      [ADELE, ['owner']],
      [MEGAN, []],
    ]),
  );
  // Lee is in the team but not in the private channel: he does not see it.
  const leeChannels = await ok(lee, 'listChannels', { teamId: SEED_TEAM.id });
  expect(leeChannels.items.map((c: Json) => String(c.id))).not.toContain(channel.id);
  const adeleChannels = await ok(adele, 'listChannels', { teamId: SEED_TEAM.id });
  expect(adeleChannels.items.map((c: Json) => String(c.id))).toContain(channel.id);

  // Lee is not in it: for him it does not exist, so he cannot change its members.
  expect(
    (await call(lee, 'addMember', { teamId: SEED_TEAM.id, channelId: channel.id, user: LEE })).status,
  ).toBe(404);
  await ok(adele, 'addMember', { teamId: SEED_TEAM.id, channelId: channel.id, user: LEE });
  // Now he sees it (asked of Graph: his own channel list is cached for a few minutes).
  const leeToken = await mintToken(t.sandbox, LEE, ['Channel.ReadBasic.All']);
  const fresh = await fetch(`${t.sandbox.graphBaseUrl}/teams/${SEED_TEAM.id}/channels`, {
    headers: { authorization: `Bearer ${leeToken}` },
  });
  expect(((await fresh.json()) as { value: Json[] }).value.map((c) => String(c.id))).toContain(channel.id);

  expect(
    await ok(adele, 'removeMember', { teamId: SEED_TEAM.id, channelId: channel.id, user: MEGAN }),
  ).toEqual({
    removed: true,
    user: MEGAN,
  });
  const after = await ok(adele, 'listMembers', { teamId: SEED_TEAM.id, channelId: channel.id });
  expect(after.items.map((m: Json) => String(m.email)).sort()).toEqual([ADELE, LEE].sort());
  const missing = await call(adele, 'removeMember', {
    teamId: SEED_TEAM.id,
    channelId: channel.id,
    user: MEGAN,
  });
  expect(missing.status).toBe(404);

  const renamed = await ok(adele, 'updateChannel', {
    teamId: SEED_TEAM.id,
    channelId: channel.id,
    name: 'Launch room',
  });
  expect(renamed.displayName).toBe('Launch room');
});

test('channel names: duplicates are 409, forbidden characters 400; General stays General', async () => {
  await ok(adele, 'createChannel', { teamId: SEED_TEAM.id, name: 'Design' });
  expect((await call(adele, 'createChannel', { teamId: SEED_TEAM.id, name: 'design' })).status).toBe(409);
  expect((await call(adele, 'createChannel', { teamId: SEED_TEAM.id, name: 'Q&A' })).status).toBe(400);
  expect(
    (await call(adele, 'createChannel', { teamId: SEED_TEAM.id, name: 'x', members: [MEGAN] })).status,
  ).toBe(400);
  const general = await call(adele, 'updateChannel', {
    teamId: SEED_TEAM.id,
    channelId: SEED_TEAM.general,
    name: 'Main',
  });
  expect(general.status).toBe(400);
});

test('team members: listed with roles; a member who is no owner cannot add anyone', async () => {
  const team = await ok(adele, 'listMembers', { teamId: SEED_TEAM.id });
  expect(team.items.find((m: Json) => m.email === ADELE).roles).toEqual(['owner']);
  expect((await call(lee, 'removeMember', { teamId: SEED_TEAM.id, user: MEGAN })).status).toBe(403);
});

test('chat members: listed, and a group chat grows', async () => {
  const chat = await ok(adele, 'createChat', {
    participants: [{ upn: MEGAN }, { upn: LEE }],
    topic: 'Launch crew',
  });
  const members = await ok(adele, 'listChatMembers', { chatId: chat.id });
  expect(members.items).toHaveLength(3);
  t.sandbox.directory.addUser({
    userPrincipalName: 'nestor.wilke@contoso.test',
    displayName: 'Nestor Wilke',
  });
  const added = await ok(adele, 'addChatMember', {
    chatId: chat.id,
    user: 'nestor.wilke@contoso.test',
    shareHistory: true,
  });
  expect(added).toMatchObject({ email: 'nestor.wilke@contoso.test' });
  expect((await ok(adele, 'listChatMembers', { chatId: chat.id })).items).toHaveLength(4);
});
