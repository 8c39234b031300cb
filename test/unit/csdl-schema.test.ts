/** The v1.0 shape checker (test/support/csdl-schema.ts) refuses what Graph would never send. */
import { loadModel, schemaIssues } from '../support/csdl-schema';
import { documentedTypes, missingDefaults } from '../support/graph-defaults';

test('a message as Graph sends it passes; undeclared, mistyped and wrong enum values are named', () => {
  const message = {
    '@odata.etag': 'W/"x"',
    id: 'AAMk',
    subject: 'Hi',
    importance: 'normal',
    receivedDateTime: '2026-12-06T10:00:00Z',
    isRead: false,
    from: { emailAddress: { name: 'Adele', address: 'adele@contoso.com' } },
    toRecipients: [{ emailAddress: { address: 'megan@contoso.com' } }],
    body: { contentType: 'html', content: '<p>x</p>' },
    flag: { flagStatus: 'notFlagged' },
  };
  expect(schemaIssues('microsoft.graph.message', message)).toEqual([]);
  expect(
    schemaIssues('microsoft.graph.message', {
      ...message,
      sizeInBytes: 10,
      importance: 'urgent',
      receivedDateTime: '2026-12-06 10:00',
      isRead: 'no',
      toRecipients: { emailAddress: {} },
    }).sort(),
  ).toEqual([
    '$.importance: "urgent" is not a member of microsoft.graph.importance (low, normal, high…)',
    '$.isRead: "no" should be a boolean',
    '$.receivedDateTime: "2026-12-06 10:00" should be an ISO 8601 date-time with offset',
    '$.sizeInBytes: not a property of microsoft.graph.message',
    '$.toRecipients: should be a collection of microsoft.graph.recipient',
  ]);
});

test('derived types by @odata.type, open complex types, nullability', () => {
  const file = {
    '@odata.type': '#microsoft.graph.fileAttachment',
    id: 'a',
    name: 'x.pdf',
    contentBytes: 'QUJD',
    size: 3,
  };
  expect(schemaIssues('microsoft.graph.attachment', file)).toEqual([]);
  expect(
    schemaIssues('microsoft.graph.attachment', { ...file, '@odata.type': '#microsoft.graph.user' }),
  ).toEqual([
    '$.@odata.type: microsoft.graph.user does not derive from microsoft.graph.attachment',
    '$.contentBytes: not a property of microsoft.graph.attachment',
  ]);
  // identity is an open type: a drive item's createdBy.user.email is a documented extra.
  expect(
    schemaIssues('microsoft.graph.identitySet', { user: { id: '1', displayName: 'A', email: 'a@b.c' } }),
  ).toEqual([]);
  expect(schemaIssues('microsoft.graph.identitySet', { user: { id: '1', nested: { x: 1 } } })).toEqual([
    '$.user.nested: not a property of microsoft.graph.identity',
  ]);
  expect(schemaIssues('microsoft.graph.entity', { id: null })).toEqual([
    '$.id: null, but Edm.String is not nullable',
  ]);
});

test("the docs' default properties: each is declared in v1.0, and a missing one is named", () => {
  const { types } = loadModel();
  const declared = (name: string): string[] => {
    const t = types.get(name);
    return t ? [...t.properties.keys(), ...(t.base ? declared(t.base) : [])] : [];
  };
  for (const type of documentedTypes) {
    expect(types.has(`microsoft.graph.${type}`)).toBe(true);
    // Every listed property is one v1.0 declares (no beta-only name slipped in).
    const listed = missingDefaults(type, {}).map((m) => m.split(': ')[1]!.split(' ')[0]!);
    const own = new Set(declared(`microsoft.graph.${type}`));
    expect(listed.filter((p) => !p.startsWith('@') && !own.has(p))).toEqual([]);
  }
  const file = { id: '1', name: 'a.txt', size: 1, file: {}, eTag: 'e', webUrl: 'u' };
  expect(missingDefaults('driveItem', file)).toEqual([
    'driveItem: createdBy missing (driveitem-get.md, driveitem-list-children.md)',
    'driveItem: createdDateTime missing (driveitem-get.md, driveitem-list-children.md)',
    'driveItem: lastModifiedBy missing (driveitem-get.md, driveitem-list-children.md)',
    'driveItem: lastModifiedDateTime missing (driveitem-get.md, driveitem-list-children.md)',
    // cTag only for files ("not returned if the item is a folder").
    'driveItem: cTag missing (driveitem-get.md, driveitem-list-children.md)',
  ]);
  const { file: _file, ...folder } = file;
  expect(missingDefaults('driveItem', { ...folder, folder: {} })).not.toContain(
    'driveItem: cTag missing (driveitem-get.md, driveitem-list-children.md)',
  );
  // A removal in a delta answer carries only its id.
  expect(missingDefaults('message', { id: '1', '@removed': { reason: 'deleted' } })).toEqual([]);
  expect(missingDefaults('message', { id: '1' })).toContain(
    'message: bodyPreview missing (message-get.md, user-list-messages.md)',
  );
});
