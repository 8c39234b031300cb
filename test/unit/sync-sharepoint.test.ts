/**
 * The keys of the SharePoint libraries and lists a user chose to sync (shared/sync/sharepoint.ts):
 * ids with commas, colons and "!" round-trip through a key the queue and the tables accept.
 */
import { isResourceKey } from '../../shared/sync/jobs';
import { resourceDef } from '../../shared/sync/resources';
import { isChosenKey, libraryKey, listKey, parseChosenKey } from '../../shared/sync/sharepoint';

const SITE =
  'contoso.sharepoint.com,2c712604-1370-44e7-a1f5-426573fda80a,2d2244c3-251a-49ea-93a8-39e1c3a060fe';
const DRIVE = 'b!FaKe-DriVe_Id!with:odd,chars';

test('a library and a list key round-trip their ids and are valid resource keys', () => {
  const lib = libraryKey(DRIVE);
  const list = listKey(SITE, 'b9d8a3f0-0000-4000-a000-000000000001');
  for (const key of [lib, list]) {
    expect(isResourceKey(key)).toBe(true);
    expect(isChosenKey(key)).toBe(true);
  }
  expect(parseChosenKey(lib)).toEqual({ kind: 'library', driveId: DRIVE });
  expect(parseChosenKey(list)).toEqual({
    kind: 'list',
    siteId: SITE,
    listId: 'b9d8a3f0-0000-4000-a000-000000000001',
  });
});

test('other keys are not chosen ones, and a tampered key parses to nothing', () => {
  for (const key of ['files', 'mail:inbox', 'todo:abc']) {
    expect(isChosenKey(key)).toBe(false);
    expect(parseChosenKey(key)).toBeUndefined();
  }
  expect(parseChosenKey('splist:bm90IGpzb24')).toBeUndefined(); // "not json"
  expect(parseChosenKey(`splist:${Buffer.from('["only one"]').toString('base64url')}`)).toBeUndefined();
  expect(isResourceKey('splib:has space')).toBe(false);
});

test('the delta requests: drive delta on the library, list item delta with the title expanded', () => {
  expect(resourceDef(libraryKey(DRIVE)).initial()).toMatchObject({
    url: `/drives/${encodeURIComponent(DRIVE)}/root/delta`,
  });
  const list = resourceDef(listKey(SITE, 'L1'));
  expect(list.service).toBe('sharepoint');
  expect(list.initial()).toMatchObject({
    url: `/sites/${encodeURIComponent(SITE)}/lists/L1/items/delta`,
    query: { $expand: 'fields($select=Title)' },
  });
  expect(list.isRemoved({ id: '3', deleted: { state: 'deleted' } })).toBe(true);
  expect(list.summary({ id: '3', fields: { Title: 'Spring launch' } })).toMatchObject({
    title: 'Spring launch',
  });
});
