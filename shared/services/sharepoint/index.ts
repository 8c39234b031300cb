/**
 * SharePoint actions (https://learn.microsoft.com/graph/api/resources/sharepoint): find sites (by
 * search, URL or the ones the user follows), their document libraries (whose files every files
 * action reaches with driveId or siteId) and lists, and read and write list items with typed
 * column values. Writes pass the item's eTag so a lost update is refused (412 precondition_failed).
 */
import { z } from 'zod';
import { decodeCursor, toPage } from '../../actions/cursor';
import { deletedOf, pageOf } from '../../actions/output';
import { defineAction } from '../../actions/registry';
import type { ActionContext } from '../../actions/types';
import { seg } from '../../graph/client';
import type { GraphError } from '../../graph/errors';
import { odataString } from '../../graph/odata';
import { Problem } from '../../http/problem';
import { eraseIndexed } from '../../sync/items';
import { enqueueSyncJob, type ResourceKey } from '../../sync/jobs';
import {
  chosenSyncs,
  isChosenKey,
  libraryKey,
  listKey,
  parseChosenKey,
  type Chosen,
} from '../../sync/sharepoint';
import { deleteSyncState, type SyncState } from '../../sync/state';
import {
  ColumnOut,
  LibraryOut,
  ListItemOut,
  ListOut,
  SiteOut,
  siteAddressOfUrl,
  toColumn,
  toLibrary,
  toList,
  toListItem,
  toSite,
} from './shape';

const READ = ['Sites.Read.All'];
const WRITE = ['Sites.ReadWrite.All'];

const siteId = z
  .string()
  .min(1)
  .max(400)
  .describe('Site id (hostname,siteCollectionId,webId) from sharepoint.searchSites or sharepoint.getSite.');
const listId = z.string().min(1).max(255).describe('List id (from sharepoint.listLists) or the list title.');
const itemId = z
  .string()
  .regex(/^\d{1,10}$/, 'is a list item id: digits')
  .describe('List item id (digits).');
const top = z.number().int().min(1).max(500).optional().describe('Page size, 1–500 (default 100).');
const cursor = z.string().max(4096).optional().describe('nextCursor of the previous page, to continue.');
/** A column's internal name: also what reaches $filter and $select, so nothing else is allowed. */
const columnName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'is a column internal name (letters, digits, _)')
  .describe('Column internal name (from sharepoint.listColumns), e.g. "Status" or "OwnerLookupId".');
const fieldValue = z.union([
  z.string().max(65_536),
  z.number(),
  z.boolean(),
  z.null(),
  z.array(z.string().max(255)).max(100),
]);
const fields = z
  .record(columnName, fieldValue)
  .refine((v) => Object.keys(v).length > 0 && Object.keys(v).length <= 100, 'needs 1 to 100 columns')
  .describe(
    'Column values by internal name: text, number, true/false, ISO 8601 date-time, a choice, or for person and lookup columns "<Name>LookupId": "<id>". null clears a value.',
  );
const eTag = z
  .string()
  .min(1)
  .max(200)
  .optional()
  .describe(
    'The eTag the item had when read: the write is refused (412 precondition_failed) if it changed since.',
  );

const sitePath = (id: string) => `/sites/${seg(id)}`;
const listPath = (site: string, list: string) => `${sitePath(site)}/lists/${seg(list)}`;
const itemPath = (site: string, list: string, item: string) => `${listPath(site, list)}/items/${seg(item)}`;

/** SharePoint's refusals in words a caller can act on. */
function sharepointError(err: GraphError): Problem | undefined {
  const graph = { graphCode: err.code, ...(err.requestId ? { graphRequestId: err.requestId } : {}) };
  const unknownField = /Field '([^']+)' is not recognized/.exec(err.message);
  if (err.status === 400 && unknownField) {
    return new Problem(
      'invalid_input',
      `The list has no column "${unknownField[1]}": use internal names from sharepoint.listColumns (person and lookup columns take <Name>LookupId).`,
      { ...graph, errors: [{ field: `fields.${unknownField[1]}`, message: 'is not a column of the list' }] },
    );
  }
  const badField = /Field '([^']+)' (.+)$/.exec(err.message);
  if (err.status === 400 && badField) {
    return new Problem('invalid_input', `Column "${badField[1]}" ${badField[2]}.`, {
      ...graph,
      errors: [{ field: `fields.${badField[1]}`, message: badField[2]! }],
    });
  }
  // A list above the list view threshold (5,000 items) refuses filters and sorts on columns that
  // are not indexed even with the Prefer header we send.
  if (err.status === 400 && /not indexed|threshold/i.test(err.message)) {
    return new Problem(
      'invalid_input',
      'This list is too large to filter or sort on a column that is not indexed: filter on an indexed column (sharepoint.listColumns shows which), or ask a site owner to index this one.',
      graph,
    );
  }
  return undefined;
}

// ---------------------------------------------------------------- sites

// https://learn.microsoft.com/graph/api/site-search
defineAction({
  id: 'sharepoint.searchSites',
  service: 'sharepoint',
  summary: 'Find SharePoint sites by name',
  description:
    'Searches the SharePoint sites the user can reach by name and description ("*" lists all). Returns a page of sites {id, name, description, webUrl, isRoot}. Pass a site id as siteId to the other sharepoint actions, or to any files action to work in its document library.',
  input: z
    .object({
      query: z.string().trim().min(1).max(256).describe('Words in the site name or description, or "*".'),
      top,
      cursor,
    })
    .strict(),
  output: pageOf(SiteOut),
  feature: 'sharepoint',
  scopes: READ,
  kind: 'read',
  idempotent: true,
  toGraph: (input) =>
    input.cursor
      ? { method: 'GET', url: decodeCursor('sharepoint.searchSites', input.cursor) }
      : { method: 'GET', url: '/sites', query: { search: input.query, $top: input.top ?? 100 } },
  fromGraph: (res) => toPage('sharepoint.searchSites', res.body, toSite),
});

// https://learn.microsoft.com/graph/api/site-get
defineAction({
  id: 'sharepoint.getSite',
  service: 'sharepoint',
  summary: 'Get a SharePoint site by id or URL',
  description:
    'Returns one site {id, name, description, webUrl, isRoot} by its id or by its address (https://contoso.sharepoint.com/sites/marketing; a link to a page or library inside the site works too). Use it to turn a URL someone pasted into a siteId.',
  input: z
    .object({
      siteId: siteId.optional(),
      url: z
        .string()
        .max(2048)
        .optional()
        .describe('The site address, e.g. https://contoso.sharepoint.com/sites/marketing.'),
    })
    .strict()
    .refine((v) => (v.siteId === undefined) !== (v.url === undefined), {
      message: 'Give exactly one of siteId or url.',
      path: ['siteId'],
    }),
  output: SiteOut,
  feature: 'sharepoint',
  scopes: READ,
  kind: 'read',
  idempotent: true,
  cache: { tag: 'sharepoint.sites' },
  toGraph: (input) => {
    if (input.siteId) return { method: 'GET', url: sitePath(input.siteId) };
    const { hostname, path } = siteAddressOfUrl(input.url!);
    const below = path.split('/').filter(Boolean).map(seg).join('/');
    return { method: 'GET', url: below ? `/sites/${seg(hostname)}:/${below}` : `/sites/${seg(hostname)}` };
  },
  fromGraph: (res) => toSite(res.body),
  mapError: sharepointError,
});

// https://learn.microsoft.com/graph/api/sites-list-followed
defineAction({
  id: 'sharepoint.listFollowedSites',
  service: 'sharepoint',
  summary: 'List the sites the user follows',
  description:
    'Lists the SharePoint sites the user follows (their favourite team sites): a good first guess for "our team site". Returns a page of sites.',
  input: z.object({ top, cursor }).strict(),
  output: pageOf(SiteOut),
  feature: 'sharepoint',
  scopes: READ,
  kind: 'read',
  idempotent: true,
  toGraph: (input) =>
    input.cursor
      ? { method: 'GET', url: decodeCursor('sharepoint.listFollowedSites', input.cursor) }
      : { method: 'GET', url: '/me/followedSites', query: { $top: input.top ?? 100 } },
  fromGraph: (res) => toPage('sharepoint.listFollowedSites', res.body, toSite),
});

// https://learn.microsoft.com/graph/api/drive-list ("List a site's drives")
defineAction({
  id: 'sharepoint.listLibraries',
  service: 'sharepoint',
  summary: "List a site's document libraries",
  description:
    'Lists the document libraries of a site {driveId, name, webUrl, usedBytes}. Pass a driveId to files.listChildren, files.search, files.upload, files.download and every other files action to work with the files in that library.',
  input: z.object({ siteId, cursor }).strict(),
  output: pageOf(LibraryOut),
  feature: 'sharepoint',
  scopes: READ,
  kind: 'read',
  idempotent: true,
  cache: { tag: 'sharepoint.lists' },
  toGraph: (input) =>
    input.cursor
      ? { method: 'GET', url: decodeCursor('sharepoint.listLibraries', input.cursor) }
      : { method: 'GET', url: `${sitePath(input.siteId)}/drives` },
  fromGraph: (res) => toPage('sharepoint.listLibraries', res.body, toLibrary),
});

// ---------------------------------------------------------------- lists and columns

// https://learn.microsoft.com/graph/api/list-list
defineAction({
  id: 'sharepoint.listLists',
  service: 'sharepoint',
  summary: "List a site's lists and libraries",
  description:
    'Lists the lists of a site {id, name, description, template, webUrl}: genericList for lists of items (read them with sharepoint.listItems), documentLibrary for file libraries (use sharepoint.listLibraries and the files actions).',
  input: z.object({ siteId, cursor }).strict(),
  output: pageOf(ListOut),
  feature: 'sharepoint',
  scopes: READ,
  kind: 'read',
  idempotent: true,
  cache: { tag: 'sharepoint.lists' },
  toGraph: (input) =>
    input.cursor
      ? { method: 'GET', url: decodeCursor('sharepoint.listLists', input.cursor) }
      : { method: 'GET', url: `${sitePath(input.siteId)}/lists` },
  fromGraph: (res) => toPage('sharepoint.listLists', res.body, toList),
});

// https://learn.microsoft.com/graph/api/list-list-columns
defineAction({
  id: 'sharepoint.listColumns',
  service: 'sharepoint',
  summary: "List a list's columns (names, types, choices)",
  description:
    'Lists the columns of a list {name, displayName, type (text, number, dateTime, choice, boolean, lookup, personOrGroup), required, readOnly, indexed, choices}. The name is the key to use in fields and filters; indexed columns can be filtered on in lists of any size.',
  input: z.object({ siteId, listId }).strict(),
  output: z.object({ items: z.array(ColumnOut) }),
  feature: 'sharepoint',
  scopes: READ,
  kind: 'read',
  idempotent: true,
  cache: { tag: 'sharepoint.lists' },
  toGraph: (input) => ({ method: 'GET', url: `${listPath(input.siteId, input.listId)}/columns` }),
  fromGraph: (res) => {
    const body = res.body as { value?: Array<Record<string, unknown>> };
    return { items: (body.value ?? []).filter((c) => c.hidden !== true).map(toColumn) };
  },
  mapError: sharepointError,
});

// ---------------------------------------------------------------- items

const condition = z
  .object({
    column: columnName,
    op: z
      .enum(['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'startsWith'])
      .default('eq')
      .describe('Comparison (default eq).'),
    value: z.union([z.string().max(1024), z.number(), z.boolean()]).describe('The value to compare with.'),
  })
  .strict();

/** `fields/X eq 'v'` terms joined by `and`; every name is checked, every literal quoted. */
function filterOf(where: Array<z.output<typeof condition>>): string {
  return where
    .map((c) => {
      const literal =
        typeof c.value === 'string'
          ? odataString(c.value)
          : typeof c.value === 'boolean'
            ? String(c.value)
            : String(c.value);
      return c.op === 'startsWith'
        ? `startswith(fields/${c.column},${literal})`
        : `fields/${c.column} ${c.op} ${literal}`;
    })
    .join(' and ');
}

// https://learn.microsoft.com/graph/api/listitem-list
defineAction({
  id: 'sharepoint.listItems',
  service: 'sharepoint',
  summary: 'List the items of a list, filtered and sorted on columns',
  description:
    'Lists the items of a SharePoint list with their column values: optionally only items matching every condition in `where` (column, op, value), sorted on a column, with only the named `columns`. Returns a page of items {id, eTag, webUrl, createdAt, modifiedAt, createdBy, modifiedBy, fields} and nextCursor. Column names come from sharepoint.listColumns.',
  input: z
    .object({
      siteId,
      listId,
      where: z.array(condition).min(1).max(10).optional().describe('Conditions, all of which must hold.'),
      orderBy: columnName.optional().describe('Column to sort on.'),
      descending: z.boolean().optional().describe('Sort descending.'),
      columns: z
        .array(columnName)
        .min(1)
        .max(50)
        .optional()
        .describe('Only these columns in fields (default all).'),
      top,
      cursor,
    })
    .strict(),
  output: pageOf(ListItemOut),
  feature: 'sharepoint',
  scopes: READ,
  kind: 'read',
  idempotent: true,
  toGraph: (input) => {
    if (input.cursor) {
      // The Prefer header goes with every page of a filtered or sorted listing.
      return {
        method: 'GET',
        url: decodeCursor('sharepoint.listItems', input.cursor),
        headers: { Prefer: 'HonorNonIndexedQueriesWarningMayFailRandomly' },
      };
    }
    const filtered = input.where !== undefined || input.orderBy !== undefined;
    return {
      method: 'GET',
      url: `${listPath(input.siteId, input.listId)}/items`,
      query: {
        $expand: input.columns ? `fields($select=${input.columns.join(',')})` : 'fields',
        $top: input.top ?? 100,
        ...(input.where ? { $filter: filterOf(input.where) } : {}),
        ...(input.orderBy ? { $orderby: `fields/${input.orderBy}${input.descending ? ' desc' : ''}` } : {}),
      },
      // SharePoint refuses filters and sorts on columns that are not indexed unless asked to try
      // (microsoftgraph/microsoft-graph-docs#2279); large lists may still refuse (sharepointError).
      ...(filtered ? { headers: { Prefer: 'HonorNonIndexedQueriesWarningMayFailRandomly' } } : {}),
    };
  },
  fromGraph: (res) => toPage('sharepoint.listItems', res.body, toListItem),
  mapError: sharepointError,
});

// https://learn.microsoft.com/graph/api/listitem-get
defineAction({
  id: 'sharepoint.getItem',
  service: 'sharepoint',
  summary: 'Get one list item with its column values',
  description:
    'Returns one list item {id, eTag, webUrl, createdAt, modifiedAt, createdBy, modifiedBy, fields}.',
  input: z.object({ siteId, listId, itemId }).strict(),
  output: ListItemOut,
  feature: 'sharepoint',
  scopes: READ,
  kind: 'read',
  idempotent: true,
  toGraph: (input, ctx) => {
    ctx.targets.push(input.itemId);
    return {
      method: 'GET',
      url: itemPath(input.siteId, input.listId, input.itemId),
      query: { $expand: 'fields' },
    };
  },
  fromGraph: (res) => toListItem(res.body),
  mapError: sharepointError,
});

// https://learn.microsoft.com/graph/api/listitem-create
defineAction({
  id: 'sharepoint.createItem',
  service: 'sharepoint',
  summary: 'Add an item to a list',
  description:
    'Creates a list item with the given column values (Title plus the list’s own columns; required columns must be given). Send an Idempotency-Key header so a retried request does not add the item twice. Returns the new item with its id and eTag.',
  input: z.object({ siteId, listId, fields }).strict(),
  output: ListItemOut,
  feature: 'sharepoint-write',
  scopes: WRITE,
  kind: 'write',
  idempotent: false,
  idempotencyKey: true,
  successStatus: 201,
  toGraph: (input) => ({
    method: 'POST',
    url: `${listPath(input.siteId, input.listId)}/items`,
    body: { fields: input.fields },
  }),
  fromGraph: (res, _input, ctx) => {
    const item = toListItem(res.body);
    ctx.targets.push(item.id);
    return item;
  },
  mapError: sharepointError,
});

async function patchFields(
  ctx: ActionContext,
  input: {
    siteId: string;
    listId: string;
    itemId: string;
    fields: Record<string, unknown>;
    eTag?: string | undefined;
  },
) {
  const res = await ctx.graph({
    method: 'PATCH',
    url: `${itemPath(input.siteId, input.listId, input.itemId)}/fields`,
    body: input.fields,
    ...(input.eTag ? { headers: { 'If-Match': input.eTag } } : {}),
  });
  // listitem-update.md answers the fieldValueSet; its @odata.etag is the item's new eTag.
  const body = res.body as Record<string, unknown>;
  return toListItem({ id: input.itemId, eTag: body['@odata.etag'], fields: body });
}

// https://learn.microsoft.com/graph/api/listitem-update
defineAction({
  id: 'sharepoint.updateItem',
  service: 'sharepoint',
  summary: "Change a list item's column values",
  description:
    'Sets the given column values of a list item; other columns keep theirs (null clears one). Pass the eTag from when you read the item: if someone changed it since, the update is refused with 412 precondition_failed and nothing is lost; read it again and retry. Returns the item with its new eTag and values.',
  input: z.object({ siteId, listId, itemId, fields, eTag }).strict(),
  output: ListItemOut,
  feature: 'sharepoint-write',
  scopes: WRITE,
  kind: 'write',
  idempotent: true,
  run: async (input, ctx) => {
    ctx.targets.push(input.itemId);
    return await patchFields(ctx, input);
  },
  mapError: sharepointError,
});

// https://learn.microsoft.com/graph/api/listitem-delete
defineAction({
  id: 'sharepoint.deleteItem',
  service: 'sharepoint',
  summary: 'Delete a list item',
  description:
    'Deletes a list item (to the site’s recycle bin). Pass eTag to delete only if the item did not change since it was read (412 precondition_failed otherwise). Returns {itemId, deleted: true}.',
  input: z.object({ siteId, listId, itemId, eTag }).strict(),
  output: deletedOf('itemId'),
  feature: 'sharepoint-write',
  scopes: WRITE,
  kind: 'destructive',
  idempotent: true,
  toGraph: (input, ctx) => {
    ctx.targets.push(input.itemId);
    return {
      method: 'DELETE',
      url: itemPath(input.siteId, input.listId, input.itemId),
      ...(input.eTag ? { headers: { 'If-Match': input.eTag } } : {}),
    };
  },
  fromGraph: (_res, input) => ({ itemId: input.itemId, deleted: true as const }),
  mapError: sharepointError,
});

// ---------------------------------------------------------------- sync into the change feed

const SyncedOut = z.object({
  resource: z
    .string()
    .describe('The sync resource key: the change feed entries carry it; pass it to stopSync.'),
  kind: z.enum(['library', 'list']),
  driveId: z.string().nullable(),
  siteId: z.string().nullable(),
  listId: z.string().nullable(),
  status: z.string().describe('idle, running or error (first round pending: running).'),
  items: z.number().describe('Items known to the sync.'),
  lastSyncedAt: z.string().nullable(),
});

/** A chosen sync as the actions show it; without a state yet, its first round is pending. */
function syncedOut(resource: string, chosen: Chosen, state?: SyncState): z.infer<typeof SyncedOut> {
  return {
    resource,
    kind: chosen.kind,
    driveId: chosen.kind === 'library' ? chosen.driveId : null,
    siteId: chosen.kind === 'list' ? chosen.siteId : null,
    listId: chosen.kind === 'list' ? chosen.listId : null,
    status: state?.status ?? 'running',
    items: state?.items ?? 0,
    lastSyncedAt: state?.lastSuccessAt ?? null,
  };
}

/** Starts syncing a chosen resource: its first round indexes what exists (no feed entries). */
async function startSync(ctx: ActionContext, resource: ResourceKey) {
  await enqueueSyncJob({ userId: ctx.userId, resource, reason: 'manual' });
  return syncedOut(resource, parseChosenKey(resource)!);
}

// https://learn.microsoft.com/graph/api/driveitem-delta (a library is a drive)
defineAction({
  id: 'sharepoint.syncLibrary',
  service: 'sharepoint',
  summary: 'Follow a document library in the change feed',
  description:
    'Starts syncing a document library (by driveId from sharepoint.listLibraries, or a site’s default library by siteId): from now on, documents added, changed or deleted there appear in the change feed (GET /api/changes, m365://changes, signed events) as service "sharepoint". The first sync indexes what exists without reporting it. Returns the sync {resource, kind, status}.',
  input: z
    .object({
      driveId: z.string().min(1).max(400).optional().describe('The library’s driveId.'),
      siteId: siteId.optional().describe('A site id: its default "Documents" library.'),
    })
    .strict()
    .refine((v) => (v.driveId === undefined) !== (v.siteId === undefined), {
      message: 'Give exactly one of driveId or siteId.',
      path: ['driveId'],
    }),
  output: SyncedOut,
  feature: 'sharepoint',
  scopes: READ,
  kind: 'write',
  idempotent: true,
  run: async (input, ctx) => {
    // The library must exist and be readable; its id is the key (a siteId resolves to it).
    const url = input.driveId ? `/drives/${seg(input.driveId)}` : `${sitePath(input.siteId!)}/drive`;
    const drive = (await ctx.graph({ method: 'GET', url, query: { $select: 'id,driveType' } })).body as {
      id?: string;
      driveType?: string;
    };
    if (!drive.id) throw new Problem('upstream_error', 'Graph answered a drive without an id.');
    if (drive.driveType !== 'documentLibrary') {
      throw new Problem(
        'invalid_input',
        'That drive is not a SharePoint document library: the user’s OneDrive syncs with the files feature already.',
        { errors: [{ field: input.driveId ? 'driveId' : 'siteId', message: 'is not a document library' }] },
      );
    }
    ctx.targets.push(drive.id);
    return await startSync(ctx, libraryKey(drive.id));
  },
  mapError: sharepointError,
});

// https://learn.microsoft.com/graph/api/listitem-delta
defineAction({
  id: 'sharepoint.syncList',
  service: 'sharepoint',
  summary: 'Follow a SharePoint list in the change feed',
  description:
    'Starts syncing a list: from now on its items added, changed or deleted appear in the change feed as service "sharepoint" (with the item title). The first sync indexes what exists without reporting it. For document libraries use sharepoint.syncLibrary. Returns the sync {resource, kind, status}.',
  input: z.object({ siteId, listId }).strict(),
  output: SyncedOut,
  feature: 'sharepoint',
  scopes: READ,
  kind: 'write',
  idempotent: true,
  run: async (input, ctx) => {
    const res = await ctx.graph({ method: 'GET', url: listPath(input.siteId, input.listId) });
    const list = toList(res.body);
    if (list.template === 'documentLibrary') {
      throw new Problem(
        'invalid_input',
        'That list is a document library: follow it with sharepoint.syncLibrary.',
        {
          errors: [{ field: 'listId', message: 'is a document library' }],
        },
      );
    }
    ctx.targets.push(list.id);
    // The site id as the user gave it may be another form (a URL path); Graph's list answer names
    // the list by id, and the site id the user passed reached it: both go into the key.
    return await startSync(ctx, listKey(input.siteId, list.id));
  },
  mapError: sharepointError,
});

defineAction({
  id: 'sharepoint.listSynced',
  service: 'sharepoint',
  summary: 'List the libraries and lists followed in the change feed',
  description:
    'Lists the SharePoint libraries and lists whose changes reach the change feed {resource, kind, driveId | siteId + listId, status, items, lastSyncedAt}.',
  input: z.object({}).strict(),
  output: z.object({ items: z.array(SyncedOut) }),
  feature: 'sharepoint',
  scopes: READ,
  kind: 'read',
  idempotent: true,
  run: async (_input, ctx) => ({
    items: (await chosenSyncs(ctx.userId)).map(({ state, chosen }) =>
      syncedOut(state.resource, chosen, state),
    ),
  }),
});

defineAction({
  id: 'sharepoint.stopSync',
  service: 'sharepoint',
  summary: 'Stop following a library or list in the change feed',
  description:
    'Stops syncing a SharePoint library or list (resource from sharepoint.listSynced): no more feed entries come from it and what the sync knew of it is erased (the feed keeps its past entries). Its change notification subscription goes at the next renewal sweep; notifications until then are ignored. Returns {resource, stopped: true}.',
  input: z
    .object({
      resource: z.string().min(1).max(1000).describe('The resource key from sharepoint.listSynced.'),
    })
    .strict(),
  output: z.object({ resource: z.string(), stopped: z.literal(true) }),
  feature: 'sharepoint',
  scopes: READ,
  kind: 'destructive',
  idempotent: true,
  run: async (input, ctx) => {
    if (!isChosenKey(input.resource) || !parseChosenKey(input.resource)) {
      throw new Problem(
        'invalid_input',
        'resource is not a SharePoint sync: take it from sharepoint.listSynced.',
        {
          errors: [{ field: 'resource', message: 'is not a SharePoint sync resource' }],
        },
      );
    }
    await deleteSyncState(ctx.userId, input.resource);
    await eraseIndexed(ctx.userId, input.resource);
    return { resource: input.resource, stopped: true as const };
  },
});
