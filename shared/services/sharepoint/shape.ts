/**
 * Our shapes for SharePoint (never raw Graph): sites, document libraries, lists, columns and list
 * items, parsed from Graph's site, drive, list, columnDefinition and listItem resources
 * (https://learn.microsoft.com/graph/api/resources/sharepoint).
 */
import { z } from 'zod';
import { untrusted } from '../../actions/output';
import { Problem } from '../../http/problem';
import { decodeOrRaw } from '../../http/url';

const Identity = z
  .object({ user: z.object({ displayName: z.string(), email: z.string() }).partial() })
  .partial()
  .optional();

const GraphSite = z
  .object({
    id: z.string(),
    name: z.string().optional(),
    displayName: z.string().optional(),
    description: z.string().nullable().optional(),
    webUrl: z.string().optional(),
    root: z.object({}).passthrough().optional(),
    siteCollection: z.object({ hostname: z.string() }).partial().optional(),
    lastModifiedDateTime: z.string().optional(),
  })
  .passthrough();

export const SiteOut = z.object({
  id: z.string().describe('Site id (hostname,siteCollectionId,webId): pass it as siteId.'),
  name: untrusted(z.string(), 'list'),
  description: untrusted(z.string().nullable(), 'list'),
  webUrl: z.string().nullable(),
  hostname: z.string().nullable(),
  isRoot: z.boolean().describe('The tenant’s root site.'),
  modifiedAt: z.string().nullable(),
});
export type Site = z.infer<typeof SiteOut>;

export function toSite(raw: unknown): Site {
  const s = GraphSite.parse(raw);
  return {
    id: s.id,
    name: s.displayName ?? s.name ?? '',
    description: s.description ?? null,
    webUrl: s.webUrl ?? null,
    hostname: s.siteCollection?.hostname ?? null,
    isRoot: s.root !== undefined,
    modifiedAt: s.lastModifiedDateTime ?? null,
  };
}

const GraphDrive = z
  .object({
    id: z.string(),
    name: z.string().optional(),
    driveType: z.string().optional(),
    webUrl: z.string().optional(),
    quota: z.object({ used: z.number(), total: z.number() }).partial().optional(),
  })
  .passthrough();

export const LibraryOut = z.object({
  driveId: z.string().describe('Pass it as driveId to any files action to work in this library.'),
  name: untrusted(z.string(), 'list'),
  webUrl: z.string().nullable(),
  usedBytes: z.number().nullable(),
});

export function toLibrary(raw: unknown): z.infer<typeof LibraryOut> {
  const d = GraphDrive.parse(raw);
  return { driveId: d.id, name: d.name ?? '', webUrl: d.webUrl ?? null, usedBytes: d.quota?.used ?? null };
}

const GraphList = z
  .object({
    id: z.string(),
    name: z.string().optional(),
    displayName: z.string().optional(),
    description: z.string().nullable().optional(),
    webUrl: z.string().optional(),
    list: z.object({ template: z.string(), hidden: z.boolean() }).partial().optional(),
    lastModifiedDateTime: z.string().optional(),
  })
  .passthrough();

export const ListOut = z.object({
  id: z.string().describe('List id: pass it as listId.'),
  name: untrusted(z.string(), 'list'),
  description: untrusted(z.string().nullable(), 'list'),
  template: z
    .string()
    .nullable()
    .describe('genericList (a list of items), documentLibrary (files: use the files actions), ...'),
  webUrl: z.string().nullable(),
  modifiedAt: z.string().nullable(),
});

export function toList(raw: unknown): z.infer<typeof ListOut> {
  const l = GraphList.parse(raw);
  return {
    id: l.id,
    name: l.displayName ?? l.name ?? '',
    description: l.description ?? null,
    template: l.list?.template ?? null,
    webUrl: l.webUrl ?? null,
    modifiedAt: l.lastModifiedDateTime ?? null,
  };
}

const COLUMN_TYPES = ['text', 'number', 'dateTime', 'choice', 'boolean', 'lookup', 'personOrGroup'] as const;

const GraphColumn = z
  .object({
    name: z.string(),
    displayName: z.string().optional(),
    description: z.string().nullable().optional(),
    required: z.boolean().optional(),
    readOnly: z.boolean().optional(),
    indexed: z.boolean().optional(),
    hidden: z.boolean().optional(),
    choice: z
      .object({ choices: z.array(z.string()) })
      .partial()
      .optional(),
  })
  .passthrough();

export const ColumnOut = z.object({
  name: z
    .string()
    .describe('The internal name: the key in fields (person and lookup columns: <name>LookupId).'),
  displayName: untrusted(z.string(), 'list'),
  type: z.enum([...COLUMN_TYPES, 'other']),
  required: z.boolean(),
  readOnly: z.boolean(),
  indexed: z.boolean().describe('Filters and sorts on this column work on lists of any size.'),
  choices: z.array(z.string()).nullable(),
});

export function toColumn(raw: unknown): z.infer<typeof ColumnOut> {
  const c = GraphColumn.parse(raw);
  const record = raw as Record<string, unknown>;
  return {
    name: c.name,
    displayName: c.displayName ?? c.name,
    type: COLUMN_TYPES.find((t) => record[t] !== undefined && record[t] !== null) ?? 'other',
    required: c.required ?? false,
    readOnly: c.readOnly ?? false,
    indexed: c.indexed ?? false,
    choices: c.choice?.choices ?? null,
  };
}

const GraphItem = z
  .object({
    id: z.string(),
    eTag: z.string().optional(),
    webUrl: z.string().optional(),
    createdDateTime: z.string().optional(),
    lastModifiedDateTime: z.string().optional(),
    createdBy: Identity,
    lastModifiedBy: Identity,
    fields: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

/** A field value as we return it: scalars and lists of scalars (multi-choice); others as JSON text. */
const FieldValue = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.string())]);

export const ListItemOut = z.object({
  id: z.string(),
  eTag: z.string().nullable().describe('Pass it back to updateItem/deleteItem to refuse lost updates.'),
  webUrl: z.string().nullable(),
  createdAt: z.string().nullable(),
  modifiedAt: z.string().nullable(),
  createdBy: untrusted(z.string().nullable(), 'list'),
  modifiedBy: untrusted(z.string().nullable(), 'list'),
  fields: untrusted(z.record(z.string(), FieldValue), 'list').describe(
    'Column values by internal name (system fields such as Created and _UIVersionString left out).',
  ),
});
export type ListItem = z.infer<typeof ListItemOut>;

/** System fields every item carries, left out of `fields` (they are createdAt, modifiedAt, ...). */
const SYSTEM_FIELDS = new Set([
  'id',
  'ContentType',
  'Created',
  'Modified',
  'AuthorLookupId',
  'EditorLookupId',
  '_UIVersionString',
  'Attachments',
  'Edit',
  'LinkTitle',
  'LinkTitleNoMenu',
  'ItemChildCount',
  'FolderChildCount',
  '_ComplianceFlags',
  '_ComplianceTag',
  '_ComplianceTagWrittenTime',
  '_ComplianceTagUserId',
  'AppAuthorLookupId',
  'AppEditorLookupId',
  'DocIcon',
]);

function fieldValue(value: unknown): z.infer<typeof FieldValue> {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) {
    return value as string | number | boolean | null;
  }
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  return JSON.stringify(value);
}

export function toListItem(raw: unknown): ListItem {
  const i = GraphItem.parse(raw);
  const fields: Record<string, z.infer<typeof FieldValue>> = {};
  for (const [key, value] of Object.entries(i.fields ?? {})) {
    if (key.startsWith('@') || SYSTEM_FIELDS.has(key)) continue;
    fields[key] = fieldValue(value);
  }
  return {
    id: i.id,
    eTag: i.eTag ?? null,
    webUrl: i.webUrl ?? null,
    createdAt: i.createdDateTime ?? null,
    modifiedAt: i.lastModifiedDateTime ?? null,
    createdBy: i.createdBy?.user?.displayName ?? null,
    modifiedBy: i.lastModifiedBy?.user?.displayName ?? null,
    fields,
  };
}

/**
 * A site URL (https://contoso.sharepoint.com/sites/marketing) as Graph's path address
 * `{hostname}:/{server-relative-path}` (site-get.md, "Access a site by server-relative URL").
 */
export function siteAddressOfUrl(url: string): { hostname: string; path: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Problem(
      'invalid_input',
      'url must be a SharePoint site address such as https://contoso.sharepoint.com/sites/team.',
      {
        errors: [{ field: 'url', message: 'is not a URL' }],
      },
    );
  }
  if (parsed.protocol !== 'https:') {
    throw new Problem('invalid_input', 'url must be an https:// SharePoint address.', {
      errors: [{ field: 'url', message: 'is not https' }],
    });
  }
  // A link into a page, list or library of the site still names the site: the path stops at the
  // first segment that belongs to the site's content, not to its address.
  const segments = parsed.pathname
    .split('/')
    .filter(Boolean)
    .map((x) => decodeOrRaw(x));
  const site: string[] = [];
  for (const segment of segments) {
    if (/^(lists|sitepages|siteassets|_layouts|forms|shared documents|documents)$/i.test(segment)) break;
    if (segment.includes('.')) break;
    site.push(segment);
  }
  return { hostname: parsed.hostname, path: `/${site.join('/')}` };
}
