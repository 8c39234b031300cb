/**
 * Meeting rooms through the local host (issue 23): a free room for 8 people on Thursday
 * 10:00-11:00 in Europe/Berlin is found (one room already taken, one too small), booked by
 * inviting it to a new meeting, answers by itself, and getSchedule then shows it busy. Rooms need
 * their own, admin-consented feature.
 */
import { startTestApp } from '../support/app';
import { controlCall, mintToken } from '../support/sandbox';
import { TEST_APP, type TestApp } from '../../scripts/harness';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const BERLIN = 'rooms-berlin@contoso.test';
let t: TestApp;
let adele: string;

async function call(action: string, input: unknown, user = adele) {
  const res = await t.call(user, 'POST', `/calendar/${action}`, input);
  return { status: res.status, body: (await res.json()) as Json };
}

/** The next Thursday at least two days ahead, as a calendar date. */
function nextThursday(): string {
  const d = new Date(Date.now() + 2 * 24 * 3600e3);
  while (d.getUTCDay() !== 4) d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

const DAY = nextThursday();
const at = (time: string) => ({ dateTime: `${DAY}T${time}:00`, timeZone: 'Europe/Berlin' });

beforeAll(async () => {
  t = await startTestApp();
  // Place.Read.All needs an administrator's consent.
  await controlCall(t.sandbox, 'PATCH', `/apps/${TEST_APP.clientId}`, {
    adminConsentedScopes: ['Place.Read.All'],
  });
  adele = await t.connect(ADELE, { features: ['calendar', 'rooms'] });
  // Megan has taken Tiergarten (10 seats) from 10:30, straight through Graph.
  const megan = await mintToken(t.sandbox, MEGAN, ['Calendars.ReadWrite']);
  const res = await fetch(`${t.sandbox.graphBaseUrl}/me/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${megan}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      subject: 'Customer visit',
      start: at('10:30'),
      end: at('11:30'),
      attendees: [{ type: 'resource', emailAddress: { address: 'tiergarten@contoso.test' } }],
    }),
  });
  expect(res.status).toBe(201);
}, 60000);
afterAll(async () => await t.stop());

test('rooms and room lists, smallest first', async () => {
  const listed = await call('listRooms', { roomList: BERLIN });
  expect(listed.status).toBe(200);
  expect(listed.body.rooms.map((r: Json) => [String(r.name), Number(r.capacity)])).toEqual([
    ['Spree', 4],
    ['Tiergarten', 10],
    ['Museumsinsel', 16],
  ]);
  expect(listed.body.roomLists.map((l: Json) => String(l.email)).sort()).toEqual([
    'rooms-berlin@contoso.test',
    'rooms-newyork@contoso.test',
  ]);
  const big = await call('listRooms', { minCapacity: 8, building: 'midtown' });
  expect(big.body.rooms.map((r: Json) => String(r.email))).toEqual(['hudson@contoso.test']);
});

test('a free room for 8 on Thursday 10:00-11:00 in Berlin is found, booked, and then busy', async () => {
  const window = {
    start: at('10:00'),
    end: at('11:00'),
    minCapacity: 8,
    roomList: BERLIN,
    timeZone: 'Europe/Berlin',
  };
  const found = await call('findRooms', window);
  expect(found.status).toBe(200);
  // Spree is too small; Tiergarten is taken from 10:30; Museumsinsel is free.
  expect(found.body.available.map((r: Json) => String(r.name))).toEqual(['Museumsinsel']);
  expect(found.body.busy.map((r: Json) => String(r.name))).toEqual(['Tiergarten']);
  expect(found.body.busy[0].busy[0]).toMatchObject({
    status: 'busy',
    start: { dateTime: `${DAY}T10:30:00`, timeZone: 'Europe/Berlin' },
  });
  const room = found.body.available[0] as Json;

  const created = await call('createEvent', {
    subject: 'Quarterly planning',
    start: at('10:00'),
    end: at('11:00'),
    location: room.name,
    attendees: [{ email: MEGAN }, { email: room.email, type: 'resource' }],
    timeZone: 'Europe/Berlin',
  });
  expect(created.status).toBe(201);

  // The room answered the request by itself.
  const event = await call('getEvent', { eventId: created.body.id });
  expect(event.body.attendees.find((a: Json) => a.email === room.email)).toMatchObject({
    type: 'resource',
    response: 'accepted',
  });

  const schedule = await call('getSchedule', {
    people: [room.email],
    start: at('09:00'),
    end: at('12:00'),
    intervalMinutes: 60,
    timeZone: 'Europe/Berlin',
  });
  expect(schedule.status).toBe(200);
  expect(schedule.body.people[0].availabilityView).toBe('020');

  const again = await call('findRooms', window);
  expect(again.body.available).toEqual([]);
  expect(again.body.busy.map((r: Json) => String(r.name))).toEqual(['Tiergarten', 'Museumsinsel']);
});

test('bad input and missing consent are clear problems', async () => {
  const long = await call('findRooms', {
    start: at('10:00'),
    end: { dateTime: '2099-01-01T00:00:00', timeZone: 'UTC' },
  });
  expect(long.status).toBe(400);
  expect(long.body.code).toBe('invalid_input');
  const unknownList = await call('listRooms', { roomList: 'nowhere@contoso.test' });
  expect(unknownList.status).toBe(404);

  const calendarOnly = await t.connect(ADELE, { features: ['calendar'] });
  const refused = await call('listRooms', {}, calendarOnly);
  expect(refused.status).toBe(403);
  expect(refused.body).toMatchObject({ code: 'feature_not_granted', feature: 'rooms' });
});
