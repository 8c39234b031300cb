/**
 * A national cloud (MICROSOFT_CLOUD=china, shared/cloud.ts): what Microsoft Graph does not offer
 * there is refused with a clear problem, at connect and at the action, instead of a Graph error;
 * the rest works as anywhere.
 */
import { startTestApp } from '../support/app';
import type { TestApp } from '../../scripts/harness';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ env: { MICROSOFT_CLOUD: 'china' } });
}, 60000);
afterAll(async () => await t.stop());

test('a feature the cloud does not offer is refused at connect, naming the cloud and the page', async () => {
  const res = await t.call('user-cn-1', 'POST', '/auth/microsoft/start', {
    features: ['mail', 'rooms'],
    returnUrl: 'https://platform.example.test/return',
  });
  expect(res.status).toBe(403);
  const problem = (await res.json()) as Json;
  expect(problem).toMatchObject({ code: 'feature_unavailable', features: ['rooms'], cloud: 'china' });
  expect(String(problem.detail)).toContain('21Vianet');
  expect(String(problem.detail)).toContain('place-list');
});

test('an action of such a feature answers feature_unavailable; other actions work', async () => {
  const userId = await t.connect('adele.vance@contoso.test', { features: ['calendar', 'mail'] });
  const rooms = await t.call(userId, 'POST', '/calendar/listRooms', {});
  expect(rooms.status).toBe(403);
  expect((await rooms.json()) as Json).toMatchObject({
    code: 'feature_unavailable',
    feature: 'rooms',
    cloud: 'china',
  });
  const meeting = await t.call(userId, 'POST', '/meetings/create', {
    subject: 'Sync',
    start: '2027-01-05T09:00:00Z',
    end: '2027-01-05T09:30:00Z',
  });
  expect(((await meeting.json()) as Json).code).toBe('feature_unavailable');
  const me = await t.call(userId, 'POST', '/profile/getMe', {});
  expect(me.status).toBe(200);
});
