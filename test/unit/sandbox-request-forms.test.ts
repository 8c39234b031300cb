/**
 * The request forms Graph accepts (sandbox/graph/request-forms.ts), as pure functions, and the
 * generated action table kept in step with the vendored API description.
 */
import { boundActions, readMetadata } from '../../sandbox/graph/metadata/csdl';
import { BOUND_ACTIONS } from '../../sandbox/graph/metadata/actions';
import {
  boundActionOf,
  canonicalGraphPath,
  normaliseActionBody,
  rebaseLinks,
  unknownSegment,
} from '../../sandbox/graph/request-forms';

test('sandbox/graph/metadata/actions.ts is what v1.0.xml.gz declares (npm run gen:graph-actions)', () => {
  expect(BOUND_ACTIONS).toEqual(boundActions(readMetadata()));
  expect(BOUND_ACTIONS.sendMail).toEqual(['Message', 'SaveToSentItems']);
});

test.each([
  ['/v1.0/me/mailFolders/inbox/messages/delta()', '/v1.0/me/mailFolders/inbox/messages/delta'],
  ['/v1.0/me/messages/microsoft.graph.delta()', '/v1.0/me/messages/delta'],
  ['/v1.0/me/microsoft.graph.sendMail', '/v1.0/me/sendMail'],
  ['/v1.0/me/messages/AAMk=/microsoft.graph.move', '/v1.0/me/messages/AAMk=/move'],
  ['/v1.0/me/drive/items/root/children', '/v1.0/me/drive/root/children'],
  ['/v1.0/drives/b!x/items/root:/Reports/q1.txt:/content', '/v1.0/drives/b!x/root:/Reports/q1.txt:/content'],
  ['/v1.0/me/drive/items/root', '/v1.0/me/drive/root'],
  // Drive paths between colons are file names, never rewritten.
  ['/v1.0/me/drive/root:/notes/delta():/content', '/v1.0/me/drive/root:/notes/delta():/content'],
  ['/v1.0/me/drive/root:/items/root:/content', '/v1.0/me/drive/root:/items/root:/content'],
  ["/v1.0/me/drive/root/search(q='x')", "/v1.0/me/drive/root/search(q='x')"],
  ['/v1.0/me/drive/items/rootfolder', '/v1.0/me/drive/items/rootfolder'],
  ['/oauth2/v2.0/token', '/oauth2/v2.0/token'],
])('%s is served as %s', (given, canonical) => {
  expect(canonicalGraphPath(given)).toBe(canonical);
});

test('action parameters in any case become the names the routes read; other bodies pass through', () => {
  const action = boundActionOf('POST', '/v1.0/me/sendMail')!;
  expect(action).toBe('sendmail');
  const body = normaliseActionBody(
    action,
    Buffer.from(JSON.stringify({ Message: { subject: 'x' }, SAVETOSENTITEMS: false })),
  );
  expect(JSON.parse(body.toString())).toEqual({ message: { subject: 'x' }, saveToSentItems: false });
  expect(normaliseActionBody(action, Buffer.from('not json')).toString()).toBe('not json');
  expect(boundActionOf('GET', '/v1.0/me/sendMail')).toBeUndefined();
  expect(boundActionOf('POST', '/v1.0/me/messages')).toBeUndefined();
  const move = normaliseActionBody(
    boundActionOf('POST', '/v1.0/me/messages/1/move')!,
    Buffer.from('{"DestinationId":"archive"}'),
  );
  expect(JSON.parse(move.toString())).toEqual({ destinationId: 'archive' });
});

test('an unknown path names its first unknown segment; links move to the called origin', () => {
  const served = new Set(['/v1.0/me', '/v1.0/me/messages', '/v1.0/me/messages/abc']);
  expect(unknownSegment('/v1.0/me/foo/bar', (p) => served.has(p))).toBe('foo');
  expect(unknownSegment('/v1.0/me/messages/abc/bogus', (p) => served.has(p))).toBe('bogus');
  expect(unknownSegment('/v1.0/nothing', () => false)).toBe('nothing');
  const own = ['https://127.0.0.1:9', 'https://localhost:9'];
  expect(
    rebaseLinks(
      {
        value: [],
        '@odata.nextLink': 'https://127.0.0.1:9/v1.0/me/messages?$skip=10',
        uploadUrl: 'https://localhost:9/preauth/upload/1',
        n: 3,
      },
      own,
      'https://graph.microsoft.com',
    ),
  ).toEqual({
    value: [],
    '@odata.nextLink': 'https://graph.microsoft.com/v1.0/me/messages?$skip=10',
    uploadUrl: 'https://graph.microsoft.com/preauth/upload/1',
    n: 3,
  });
});
