/**
 * A colleague's shared calendar through the local host (issue 23): Megan shares her calendar
 * with Adele in Outlook (here: through Graph's calendarPermissions, as Outlook does), and Adele's
 * assistant reads it with calendar.listEvents / getEvent and `user`; Lee has not shared his, and
 * the answer says so and what to do instead.
 */
import { startTestApp } from '../support/app';
import { mintToken } from '../support/sandbox';
import type { TestApp } from '../../scripts/harness';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const LEE = 'lee.gu@contoso.test';
let t: TestApp;
let adele: string;

async function call(action: string, input: unknown) {
  const res = await t.call(adele, 'POST', `/calendar/${action}`, input);
  return { status: res.status, body: (await res.json()) as Json };
}

async function asMegan(method: string, path: string, body: unknown): Promise<Json> {
  const token = await mintToken(t.sandbox, MEGAN, ['Calendars.ReadWrite']);
  const res = await fetch(`${t.sandbox.graphBaseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBeLessThan(300);
  return (await res.json()) as Json;
}

const window = {
  start: { dateTime: '2027-09-06T00:00:00', timeZone: 'Europe/Berlin' },
  end: { dateTime: '2027-09-11T00:00:00', timeZone: 'Europe/Berlin' },
  timeZone: 'Europe/Berlin',
};

beforeAll(async () => {
  t = await startTestApp();
  adele = await t.connect(ADELE, { features: ['calendar'] });
  await asMegan('POST', '/me/events', {
    subject: 'Launch rehearsal',
    start: { dateTime: '2027-09-08T14:00:00', timeZone: 'Europe/Berlin' },
    end: { dateTime: '2027-09-08T15:30:00', timeZone: 'Europe/Berlin' },
  });
  await asMegan('POST', '/me/calendar/calendarPermissions', {
    emailAddress: { name: 'Adele Vance', address: ADELE },
    isInsideOrganization: true,
    isRemovable: true,
    role: 'read',
  });
}, 60000);
afterAll(async () => await t.stop());

test("a colleague's shared calendar is read with user; an event of it by id", async () => {
  const listed = await call('listEvents', { ...window, user: MEGAN });
  expect(listed.status).toBe(200);
  const rehearsal = (listed.body.items as Json[]).find((e) => e.subject === 'Launch rehearsal')!;
  expect(rehearsal).toMatchObject({
    start: { dateTime: '2027-09-08T14:00:00', timeZone: 'Europe/Berlin' },
    end: { dateTime: '2027-09-08T15:30:00', timeZone: 'Europe/Berlin' },
  });
  const one = await call('getEvent', { eventId: rehearsal.id, user: MEGAN, timeZone: 'Europe/Berlin' });
  expect(one.status).toBe(200);
  expect(one.body.subject).toBe('Launch rehearsal');
  // The user's own calendar is not Megan's.
  const own = await call('listEvents', window);
  expect((own.body.items as Json[]).some((e) => e.subject === 'Launch rehearsal')).toBe(false);
});

test('a calendar not shared is a clear 403 problem naming what to do instead', async () => {
  const refused = await call('listEvents', { ...window, user: LEE });
  expect(refused.status).toBe(403);
  expect(refused.body).toMatchObject({ code: 'calendar_not_shared', user: LEE });
  expect(String(refused.body.detail)).toContain('calendar.getSchedule');
  const bad = await call('listEvents', { ...window, user: 'not an address' });
  expect(bad.status).toBe(400);
  expect(bad.body.code).toBe('invalid_input');
});
