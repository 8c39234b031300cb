/**
 * SharePoint in the sandbox: sites, lists, columns and list items
 * (https://learn.microsoft.com/graph/api/resources/sharepoint). Everything lives in the
 * change-tracking store under one tenant-wide owner key, so list item delta and change
 * notifications come from the store as for every other service:
 * - `spSites`: the site collections and subsites. A site id has the documented composite form
 *   `{hostname},{site-collection-id},{web-id}` (site.md, "id"), stable across restarts.
 * - `spLists:{siteId}`: the lists of a site; each carries its column definitions.
 * - `spListItems:{listId}`: the items of a list; ids are integers as strings, counted per list as
 *   SharePoint does, never reused; custom values live in `fields` (fieldvalueset.md: an open type).
 * Shapes follow the v1.0 CSDL (site, list, listItem, columnDefinition, sharepointIds).
 */
import { createHash } from 'node:crypto';
import type { Sandbox } from '../../context';
import type { SandboxUser } from '../../state';
import { badRequest, GraphHttpError } from '../errors';
import type { ChangeStore, CollectionRef, Entity } from '../store';

export const SHAREPOINT_HOSTNAME = 'contoso.sharepoint.com';
/** The store's owner key of everything SharePoint: sites belong to the tenant, not a user. */
export const SP_OWNER = 'sharepoint';
export const SITES = 'spSites';
export const listsCollection = (siteId: string): string => `spLists:${siteId}`;
export const itemsCollection = (listId: string): string => `spListItems:${listId}`;

export type ColumnType = 'text' | 'number' | 'dateTime' | 'choice' | 'boolean' | 'lookup' | 'personOrGroup';
export const COLUMN_TYPES: readonly ColumnType[] = [
  'text',
  'number',
  'dateTime',
  'choice',
  'boolean',
  'lookup',
  'personOrGroup',
];

/** A column as stored: the columnDefinition properties plus which type facet it has. */
export interface Column {
  id: string;
  name: string;
  displayName: string;
  description: string;
  type: ColumnType;
  indexed: boolean;
  required: boolean;
  readOnly: boolean;
  hidden: boolean;
  enforceUniqueValues: boolean;
  /** The type facet (textColumn, choiceColumn, ...), rendered under the type's name. */
  facet: Record<string, unknown>;
}

/** A GUID derived from a key: ids stay the same across restarts and re-seeding. */
export function stableGuid(key: string): string {
  const h = createHash('sha256').update(key).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function sitesRef(store: ChangeStore): CollectionRef {
  return store.collection(SP_OWNER, SITES, { etag: 'none' });
}

export function listsRef(store: ChangeStore, siteId: string): CollectionRef {
  return store.collection(SP_OWNER, listsCollection(siteId), { etag: 'none' });
}

export function itemsRef(store: ChangeStore, listId: string): CollectionRef {
  // Drive-style eTags ("{GUID},version") are what SharePoint gives list items.
  return store.collection(SP_OWNER, itemsCollection(listId), { etag: 'drive' });
}

export function siteUrl(path: string): string {
  return `https://${SHAREPOINT_HOSTNAME}${path === '/' ? '' : path}`;
}

/** The composite id of the site at a server-relative path (site.md: hostname,siteCollectionId,webId). */
export function siteIdFor(collectionPath: string, path: string): string {
  return `${SHAREPOINT_HOSTNAME},${stableGuid(`site:${collectionPath}`)},${stableGuid(`web:${path}`)}`;
}

export function identity(user: SandboxUser | undefined): Record<string, unknown> {
  return user
    ? { user: { email: user.mail || user.userPrincipalName, id: user.id, displayName: user.displayName } }
    : { application: { displayName: 'SharePoint' } };
}

/** site.md: the resource as Graph returns it (internal bookkeeping removed). */
export function renderSite(site: Entity): Record<string, unknown> {
  const path = String(site.path);
  return {
    id: site.id,
    name: site.name,
    displayName: site.displayName,
    description: site.description,
    webUrl: siteUrl(path),
    createdDateTime: site.createdDateTime,
    lastModifiedDateTime: site.lastModifiedDateTime,
    isPersonalSite: false,
    ...(path === '/' ? { root: {} } : {}),
    siteCollection: { hostname: SHAREPOINT_HOSTNAME, ...(site.collectionPath === path ? { root: {} } : {}) },
    sharepointIds: {
      siteId: String(site.id).split(',')[1],
      webId: String(site.id).split(',')[2],
      siteUrl: siteUrl(path),
      tenantId: site.tenantId,
    },
  };
}

export function columnsOf(list: Entity): Column[] {
  return (list.columns as Column[] | undefined) ?? [];
}

export function renderColumn(column: Column): Record<string, unknown> {
  return {
    id: column.id,
    name: column.name,
    displayName: column.displayName,
    description: column.description,
    columnGroup: 'Custom Columns',
    enforceUniqueValues: column.enforceUniqueValues,
    hidden: column.hidden,
    indexed: column.indexed,
    readOnly: column.readOnly,
    required: column.required,
    [column.type]: column.facet,
  };
}

/** A document library's list name (its URL segment) and title, as SharePoint names the default one. */
export const DEFAULT_LIBRARY = { name: 'Shared Documents', displayName: 'Documents' };

export function isLibrary(list: Entity): boolean {
  return list.template === 'documentLibrary';
}

export function listWebUrl(list: Entity, site: Entity): string {
  const base = siteUrl(String(site.path));
  const segment = encodeURIComponent(String(list.name));
  return isLibrary(list) ? `${base}/${segment}` : `${base}/Lists/${segment}`;
}

/** The drive owner id of a document library (files/ serves its drive). */
export const libraryOwnerId = (listId: string): string => `splib-${listId}`;

export function renderList(list: Entity, site: Entity, version: number): Record<string, unknown> {
  return {
    '@odata.etag': `"${list.id},${version}"`,
    id: list.id,
    name: list.name,
    displayName: list.displayName,
    description: list.description,
    webUrl: listWebUrl(list, site),
    createdDateTime: list.createdDateTime,
    lastModifiedDateTime: list.lastModifiedDateTime,
    createdBy: list.createdBy,
    parentReference: { siteId: site.id },
    list: { contentTypesEnabled: false, hidden: false, template: list.template },
    sharepointIds: {
      listId: list.id,
      siteId: String(site.id).split(',')[1],
      siteUrl: siteUrl(String(site.path)),
    },
  };
}

// ---------------------------------------------------------------- system columns

/** Columns every list has: shown by /columns, read-only except Title (listitem.md fields). */
export const SYSTEM_COLUMNS: Column[] = [
  column('Title', 'Title', 'text', { required: true, facet: textFacet() }),
  column('Created', 'Created', 'dateTime', {
    readOnly: true,
    facet: { displayAs: 'default', format: 'dateTime' },
  }),
  column('Modified', 'Modified', 'dateTime', {
    readOnly: true,
    indexed: true,
    facet: { displayAs: 'default', format: 'dateTime' },
  }),
  column('Author', 'Created By', 'personOrGroup', {
    readOnly: true,
    facet: { allowMultipleSelection: false, chooseFromType: 'peopleOnly', displayAs: 'account' },
  }),
  column('Editor', 'Modified By', 'personOrGroup', {
    readOnly: true,
    facet: { allowMultipleSelection: false, chooseFromType: 'peopleOnly', displayAs: 'account' },
  }),
];

function textFacet(): Record<string, unknown> {
  return {
    allowMultipleLines: false,
    appendChangesToExistingText: false,
    linesForEditing: 0,
    maxLength: 255,
  };
}

export function column(
  name: string,
  displayName: string,
  type: ColumnType,
  options: Partial<Omit<Column, 'name' | 'displayName' | 'type'>> = {},
): Column {
  return {
    id: stableGuid(`column:${name}:${type}`),
    name,
    displayName,
    description: '',
    type,
    indexed: false,
    required: false,
    readOnly: false,
    hidden: false,
    enforceUniqueValues: false,
    facet: type === 'text' ? textFacet() : {},
    ...options,
  };
}

/** The fields of a list: system columns first, then the list's own. */
export function allColumns(list: Entity): Column[] {
  return [...SYSTEM_COLUMNS, ...columnsOf(list)];
}

/**
 * A column definition from a create-list or create-column body (columndefinition.md): `name`,
 * optional `displayName`, exactly one type facet (text, number, dateTime, choice, boolean, lookup,
 * personOrGroup), `indexed`, `required`, `enforceUniqueValues`.
 */
export function columnFromBody(body: unknown): Column {
  if (!body || typeof body !== 'object') throw badRequest('drive', 'A column definition must be an object.');
  const b = body as Record<string, unknown>;
  if (typeof b.name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(b.name)) {
    throw badRequest('drive', 'A column needs a name made of letters, digits and underscores.');
  }
  const facets = COLUMN_TYPES.filter((t) => b[t] !== undefined);
  if (facets.length !== 1) {
    throw badRequest(
      'drive',
      `Column '${b.name}' must have exactly one type facet (${COLUMN_TYPES.join(', ')}).`,
    );
  }
  const type = facets[0]!;
  const facet = (b[type] ?? {}) as Record<string, unknown>;
  if (type === 'choice' && !Array.isArray(facet.choices)) {
    throw badRequest('drive', `Choice column '${b.name}' needs choice.choices.`);
  }
  return column(b.name, typeof b.displayName === 'string' ? b.displayName : b.name, type, {
    id: stableGuid(`column:${b.name}:${type}:${Math.random()}`),
    description: typeof b.description === 'string' ? b.description : '',
    indexed: b.indexed === true,
    required: b.required === true,
    enforceUniqueValues: b.enforceUniqueValues === true,
    facet: type === 'text' ? { ...textFacet(), ...facet } : facet,
  });
}

// ---------------------------------------------------------------- field values

/** The user lookup id of a user in a site (its "User Information List" id). */
export function lookupIdOf(sandbox: Sandbox, userId: string): string {
  const index = [...sandbox.directory.users.keys()].indexOf(userId);
  return String(index < 0 ? 1 : index + 7);
}

export function userOfLookupId(sandbox: Sandbox, lookupId: string): SandboxUser | undefined {
  const index = Number(lookupId) - 7;
  return [...sandbox.directory.users.values()][index];
}

function invalidField(name: string, message: string): GraphHttpError {
  return badRequest('drive', `Field '${name}' ${message}`);
}

/**
 * Checks a `fields` write (listitem-create.md, listitem-update.md): every name is a column of the
 * list (person and lookup columns are written as `{Name}LookupId`), read-only columns refuse,
 * each value has its column's type. Returns the values to store.
 */
export function validateFields(
  sandbox: Sandbox,
  list: Entity,
  body: unknown,
  mode: 'create' | 'update',
): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('drive', 'fields must be an object of column names and values.');
  }
  const columns = allColumns(list);
  const out: Record<string, unknown> = {};
  for (const [raw, value] of Object.entries(body as Record<string, unknown>)) {
    if (raw.startsWith('@odata')) continue;
    const lookup = /^(.*)LookupId$/.exec(raw);
    const col =
      columns.find((c) => c.name === raw && c.type !== 'lookup' && c.type !== 'personOrGroup') ??
      (lookup
        ? columns.find((c) => c.name === lookup[1] && (c.type === 'lookup' || c.type === 'personOrGroup'))
        : undefined);
    // SharePoint's own wording for an unknown field (observed through Graph).
    if (!col) throw invalidField(raw, 'is not recognized');
    if (col.readOnly) throw invalidField(raw, 'is read-only');
    out[raw] = checkValue(sandbox, col, raw, value);
  }
  if (mode === 'create') {
    for (const col of columns) {
      if (!col.required || col.readOnly) continue;
      const key = col.type === 'lookup' || col.type === 'personOrGroup' ? `${col.name}LookupId` : col.name;
      if (out[key] === undefined || out[key] === null || out[key] === '')
        throw invalidField(col.name, 'is required');
    }
  }
  return out;
}

function maxLengthOf(col: Column): number {
  return typeof col.facet.maxLength === 'number' ? col.facet.maxLength : 255;
}

function checkValue(sandbox: Sandbox, col: Column, name: string, value: unknown): unknown {
  if (value === null) {
    if (col.required) throw invalidField(name, 'is required');
    return null;
  }
  switch (col.type) {
    case 'text':
      if (typeof value !== 'string') throw invalidField(name, 'expects text');
      if (value.length > maxLengthOf(col) && col.facet.allowMultipleLines !== true)
        throw invalidField(name, `is longer than ${maxLengthOf(col)} characters`);
      return value;
    case 'number': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n)) throw invalidField(name, 'expects a number');
      return n;
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw invalidField(name, 'expects true or false');
      return value;
    case 'dateTime': {
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value)))
        throw invalidField(name, 'expects an ISO 8601 date and time');
      return new Date(value).toISOString().replace(/\.\d{3}Z$/, 'Z');
    }
    case 'choice': {
      const choices = (col.facet.choices as string[] | undefined) ?? [];
      if (typeof value !== 'string') throw invalidField(name, 'expects one of its choices');
      if (!choices.includes(value) && col.facet.allowTextEntry !== true)
        throw invalidField(name, `expects one of: ${choices.join(', ')}`);
      return value;
    }
    case 'personOrGroup':
    case 'lookup': {
      const id = typeof value === 'number' ? String(value) : value;
      if (typeof id !== 'string' || !/^\d+$/.test(id)) throw invalidField(name, 'expects a lookup id');
      if (col.type === 'personOrGroup' && !userOfLookupId(sandbox, id))
        throw invalidField(name, `has no user with lookup id ${id}`);
      return id;
    }
  }
}

/** The next list item id: one more than any id the list ever had (ids are never reused). */
export function nextItemId(store: ChangeStore, ref: CollectionRef): string {
  let max = 0;
  for (const r of store.records(ref)) max = Math.max(max, Number(r.id) || 0);
  return String(max + 1);
}

/** fieldvalueset: the item's values plus the system fields SharePoint always returns. */
export function fieldsOf(sandbox: Sandbox, item: Entity, version: number): Record<string, unknown> {
  const created = item.createdBy as { user?: { id?: string } } | undefined;
  const modified = item.lastModifiedBy as { user?: { id?: string } } | undefined;
  return {
    '@odata.etag': item.eTag,
    id: item.id,
    ContentType: 'Item',
    ...(item.fields as Record<string, unknown>),
    Created: item.createdDateTime,
    Modified: item.lastModifiedDateTime,
    AuthorLookupId: lookupIdOf(sandbox, created?.user?.id ?? ''),
    EditorLookupId: lookupIdOf(sandbox, modified?.user?.id ?? ''),
    _UIVersionString: `${version}.0`,
    Attachments: false,
  };
}
