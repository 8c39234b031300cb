/**
 * The items index against Azurite: a baseline writes its rows as inserts (one storage lookup per
 * row instead of an upsert's two); a chunk that meets rows an earlier, crashed attempt wrote fails
 * as a whole (409) and is written again as upserts, so the resumed baseline loses nothing.
 */
import { randomUUID } from 'node:crypto';
import { getIndexed, putIndexed, type IndexedItem } from '../../shared/sync/items';

const item = (id: string, version: string): IndexedItem => ({
  id,
  version,
  deleted: false,
  summary: { subject: `Message ${id}` },
  seenIn: `round-${version}`,
  seenAt: new Date().toISOString(),
});

test('baseline inserts; a chunk meeting rows of a crashed attempt is written again as upserts', async () => {
  const user = `items-${randomUUID()}`;
  // The first attempt stored two rows before it died.
  await putIndexed(user, 'mail:inbox', [item('a', '1'), item('b', '1')], { fresh: true });
  // The new baseline's chunk holds those two and three new ones.
  const ids = ['a', 'b', 'c', 'd', 'e'];
  await putIndexed(
    user,
    'mail:inbox',
    ids.map((id) => item(id, '2')),
    { fresh: true },
  );
  const rows = await getIndexed(user, 'mail:inbox', ids);
  expect(ids.map((id) => rows.get(id)?.version)).toEqual(['2', '2', '2', '2', '2']);
  expect(rows.get('a')?.summary).toEqual({ subject: 'Message a' });
});

test('more than one transaction: 250 fresh rows arrive in three chunks', async () => {
  const user = `items-${randomUUID()}`;
  const ids = Array.from({ length: 250 }, (_, i) => `m${i}`);
  await putIndexed(
    user,
    'mail:archive',
    ids.map((id) => item(id, '1')),
    { fresh: true },
  );
  const rows = await getIndexed(user, 'mail:archive', ids);
  expect(rows.size).toBe(250);
});
