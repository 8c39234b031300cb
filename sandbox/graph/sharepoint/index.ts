/**
 * Graph SharePoint endpoints (https://learn.microsoft.com/graph/api/resources/sharepoint):
 * - sites: `/sites/root`, `/sites/{hostname}`, `/sites/{hostname}:/{server-relative-path}` (with
 *   `:/...` continuing into the site: `/sites/{hostname}:/sites/x:/lists`), `/sites/{id}` in the
 *   composite form `hostname,siteCollectionId,webId` (site-get.md), `/sites?search=` (site-search.md),
 *   `/me/followedSites` (site-follow.md), `/sites/{id}/sites` (subsites, site-list-subsites.md);
 * - lists by id or by title (list-get.md), create (list-create.md with `columns` and
 *   `list.template`), columns (list-list-columns.md);
 * - list items: list with `$expand=fields` or `expand=fields(select=A,B)` (listitem-list.md),
 *   `$filter`/`$orderby` on `fields/X`, which SharePoint allows only on indexed columns unless the
 *   request says `Prefer: HonorNonIndexedQueriesWarningMayFailRandomly` (the 400's wording is
 *   SharePoint's, quoted in microsoftgraph/microsoft-graph-docs#2279 and O365/python-o365#593);
 *   get, create (`{fields}`), update (`PATCH .../fields`, `If-Match` with the item's eTag: 412
 *   when stale, as drive items), delete, and delta (listitem-delta.md: drive style, `token=`,
 *   deleted items with the `deleted` facet, 410 on a stale token).
 * Document libraries (`/sites/{id}/drive`, `/drives`) are served by the drive model (files/).
 * Permissions: Sites.Read.All to read, Sites.ReadWrite.All to write (delegated and application).
 */
import { randomUUID } from 'node:crypto';
import type { Sandbox } from '../../context';
import { empty, safeDecode, type SandboxResponse } from '../../http';
import { entityResponse, graphRoute, type GraphCtx } from '../core';
import { driveJson, handleLibrary } from '../files';
import { driveCtx, registerDriveOwners } from '../files/state';
import { libraryOwner, resolveLibraryOwner } from './libraries';
import { deltaResponse } from '../delta';
import { badQuery, badRequest, GraphHttpError, notFound } from '../errors';
import { filterProperties, parseODataQuery } from '../odata';
import { collection } from '../paging';
import type { Entity } from '../store';
import {
  allColumns,
  columnFromBody,
  DEFAULT_LIBRARY,
  isLibrary,
  fieldsOf,
  identity,
  itemsRef,
  listsRef,
  nextItemId,
  renderColumn,
  renderList,
  renderSite,
  SHAREPOINT_HOSTNAME,
  siteUrl,
  sitesRef,
  validateFields,
} from './model';

export { seedSharePoint } from './seed';

const READ = { anyOf: ['Sites.Read.All'], app: ['Sites.Read.All', 'Sites.ReadWrite.All'] };
const WRITE = { anyOf: ['Sites.ReadWrite.All'], app: ['Sites.ReadWrite.All'] };
const options = (scopes: { anyOf: string[]; app: string[] }) => ({
  scopes,
  workload: 'drive' as const,
  throttle: 'none' as const,
});
const HONOR_NON_INDEXED = 'honornonindexedquerieswarningmayfailrandomly';

function siteNotFound(): GraphHttpError {
  return notFound('drive', 'Requested site could not be found');
}

function allSites(ctx: GraphCtx): Entity[] {
  return ctx.graph.store.list(sitesRef(ctx.graph.store));
}

/**
 * Parses what follows `/sites/`: the site reference and the rest of the path. Forms: `root`,
 * a hostname (the root site), `hostname:/path` or `hostname:/path:/rest`, or a composite id.
 */
function resolveSite(ctx: GraphCtx, raw: string): { site: Entity; rest: string[]; restRaw: string } {
  let ref: string;
  let restText: string;
  const pathForm = /^([^/:]+):(\/[^:]*)(?::(.*))?$/.exec(raw);
  let site: Entity | undefined;
  if (pathForm) {
    const [, host, path, after] = pathForm;
    restText = after ?? '';
    if (safeDecode(host!).toLowerCase() !== SHAREPOINT_HOSTNAME) throw siteNotFound();
    const wanted = safeDecode(path!).replace(/\/+$/, '').toLowerCase() || '/';
    site = allSites(ctx).find((s) => String(s.path).toLowerCase() === wanted);
  } else {
    const slash = raw.indexOf('/');
    ref = safeDecode(slash === -1 ? raw : raw.slice(0, slash));
    restText = slash === -1 ? '' : raw.slice(slash);
    const lower = ref.toLowerCase();
    if (lower === 'root' || lower === SHAREPOINT_HOSTNAME) site = allSites(ctx).find((s) => s.path === '/');
    else site = allSites(ctx).find((s) => String(s.id).toLowerCase() === lower);
  }
  if (!site) throw siteNotFound();
  return { site, rest: restText.split('/').filter(Boolean).map(safeDecode), restRaw: restText };
}

/** The site's default "Documents" library (every site has one). */
function defaultLibrary(ctx: GraphCtx, site: Entity): Entity {
  const lists = ctx.graph.store.list(listsRef(ctx.graph.store, site.id));
  const library = lists.find((l) => isLibrary(l) && l.name === DEFAULT_LIBRARY.name) ?? lists.find(isLibrary);
  if (!library) throw notFound('drive', 'The site has no document library.');
  return library;
}

function siteResponse(ctx: GraphCtx, site: Entity): SandboxResponse {
  return entityResponse(ctx, renderSite(site), { context: 'sites/$entity' });
}

function findList(ctx: GraphCtx, site: Entity, ref: string): Entity {
  const lists = ctx.graph.store.list(listsRef(ctx.graph.store, site.id));
  const lower = ref.toLowerCase();
  const list = lists.find(
    (l) => l.id.toLowerCase() === lower || String(l.displayName).toLowerCase() === lower,
  );
  if (!list) throw notFound('drive', 'The specified list was not found');
  return list;
}

function listVersion(ctx: GraphCtx, site: Entity, list: Entity): number {
  return ctx.graph.store.record(listsRef(ctx.graph.store, site.id), list.id)?.version ?? 1;
}

function findItem(ctx: GraphCtx, list: Entity, id: string): Entity {
  const item = ctx.graph.store.get(itemsRef(ctx.graph.store, list.id), id);
  if (!item) throw notFound('drive', 'The specified list item was not found');
  return item;
}

/** `$expand=fields`, `expand=fields`, `$expand=fields($select=A,B)` or `fields(select=A,B)`. */
function fieldsExpansion(query: URLSearchParams): { expand: boolean; select?: string[] } {
  const raw = query.get('$expand') ?? query.get('expand');
  if (!raw) return { expand: false };
  const m = /(?:^|,)\s*fields\s*(?:\(\s*\$?select\s*=\s*([^)]*)\))?/i.exec(raw);
  if (!m) return { expand: false };
  return {
    expand: true,
    select: m[1]
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  };
}

function renderItem(ctx: GraphCtx, site: Entity, list: Entity, item: Entity, query = ctx.query) {
  const version = ctx.graph.store.record(itemsRef(ctx.graph.store, list.id), item.id)?.version ?? 1;
  const { expand, select } = fieldsExpansion(query);
  let fields: Record<string, unknown> | undefined;
  if (expand) {
    const all = fieldsOf(ctx.sandbox, item, version);
    fields = select
      ? Object.fromEntries(Object.entries(all).filter(([k]) => k === '@odata.etag' || select.includes(k)))
      : all;
  }
  return {
    '@odata.etag': item.eTag,
    id: item.id,
    eTag: item.eTag,
    createdDateTime: item.createdDateTime,
    lastModifiedDateTime: item.lastModifiedDateTime,
    webUrl: `${siteUrl(String(site.path))}/Lists/${encodeURIComponent(String(list.name))}/${item.id}_.000`,
    createdBy: item.createdBy,
    lastModifiedBy: item.lastModifiedBy,
    parentReference: { id: list.id, siteId: site.id },
    contentType: { id: '0x0100', name: 'Item' },
    sharepointIds: { listId: list.id, listItemId: item.id, siteId: String(site.id).split(',')[1] },
    ...(fields ? { fields } : {}),
  };
}

/** SharePoint refuses filters and sorts on columns that are not indexed, unless asked not to. */
function checkIndexed(ctx: GraphCtx, list: Entity): void {
  const q = parseODataQuery(ctx.query, 'drive');
  const names = [...filterProperties(q.filter), ...(q.orderby ?? []).map((k) => k.path.join('/'))]
    .filter((p) => p.toLowerCase().startsWith('fields/'))
    .map((p) => p.slice('fields/'.length));
  if (names.length === 0 || ctx.prefs.raw[HONOR_NON_INDEXED] !== undefined) {
    if (names.length > 0) ctx.applyPreference('HonorNonIndexedQueriesWarningMayFailRandomly');
    return;
  }
  const columns = allColumns(list);
  for (const name of names) {
    const col = columns.find((c) => c.name === name || `${c.name}LookupId` === name);
    if (!col) throw badQuery('drive', `Field '${name}' is not recognized`);
    if (!col.indexed) {
      throw badRequest(
        'drive',
        `Field '${name}' cannot be referenced in filter or orderby as it is not indexed. Provide the 'Prefer: HonorNonIndexedQueriesWarningMayFailRandomly' header to allow this, but be warned that such queries may fail on large lists.`,
      );
    }
  }
}

function checkIfMatch(ctx: GraphCtx, item: Entity): void {
  const ifMatch = ctx.headers['if-match'];
  if (typeof ifMatch === 'string' && ifMatch !== '*' && ifMatch !== item.eTag) {
    throw new GraphHttpError(412, 'resourceModified', "ETag does not match current item's value", {
      innerCode: 'entityTagDoesNotMatch',
    });
  }
}

// ---------------------------------------------------------------- handlers by path

async function handle(ctx: GraphCtx, method: string): Promise<SandboxResponse> {
  const raw = ctx.path.replace(/^\/v1\.0\/sites\//i, '');
  const { site, rest, restRaw } = resolveSite(ctx, raw);
  const store = ctx.graph.store;
  // Document libraries are drives: the drive model serves them (files/handleLibrary).
  const drive = /^\/drive(?=$|[/:])(.*)$/.exec(restRaw);
  if (drive)
    return await handleLibrary(ctx, libraryOwner(ctx.sandbox, site, defaultLibrary(ctx, site)), drive[1]!);
  if (restRaw === '/drives' && method === 'GET') {
    const libraries = store.list(listsRef(store, site.id)).filter(isLibrary);
    return collection(
      ctx,
      libraries.map((l) => driveJson(driveCtx(ctx.sandbox, libraryOwner(ctx.sandbox, site, l), ctx.caller))),
      { kind: 'skiptoken', context: 'drives' },
    );
  }
  const listDrive = /^\/lists\/([^/]+)\/drive(?=$|[/:])(.*)$/.exec(restRaw);
  if (listDrive) {
    const list = findList(ctx, site, safeDecode(listDrive[1]!));
    if (!isLibrary(list)) throw notFound('drive', 'The list is not a document library: it has no drive.');
    return await handleLibrary(ctx, libraryOwner(ctx.sandbox, site, list), listDrive[2]!);
  }
  const [first, listRef, third, itemId, fifth] = rest;
  const unsupported = () =>
    new GraphHttpError(400, 'invalidRequest', `Unsupported request for this site: ${method} ${ctx.path}`);

  if (first === undefined) {
    if (method !== 'GET') throw unsupported();
    return siteResponse(ctx, site);
  }
  if (first === 'sites' && rest.length === 1 && method === 'GET') {
    const children = allSites(ctx).filter((s) => s.parentId === site.id);
    return collection(ctx, children, { kind: 'skiptoken', render: renderSite, context: 'sites' });
  }
  if (first !== 'lists') throw unsupported();

  if (listRef === undefined) {
    if (method === 'GET') {
      const lists = store.list(listsRef(store, site.id));
      return collection(ctx, lists, {
        kind: 'skiptoken',
        render: (l) => renderList(l, site, listVersion(ctx, site, l)),
        context: `sites('${site.id}')/lists`,
      });
    }
    if (method === 'POST') return await createList(ctx, site);
    throw unsupported();
  }

  const list = findList(ctx, site, listRef);
  const items = itemsRef(store, list.id);
  if (third === undefined) {
    if (method !== 'GET') throw unsupported();
    return entityResponse(ctx, renderList(list, site, listVersion(ctx, site, list)), {
      context: `sites('${site.id}')/lists/$entity`,
    });
  }
  if (third === 'columns' && itemId === undefined && method === 'GET') {
    return collection(ctx, allColumns(list).map(renderColumn), {
      kind: 'skiptoken',
      context: `sites('${site.id}')/lists('${list.id}')/columns`,
    });
  }
  if (third !== 'items') throw unsupported();

  if (itemId === undefined) {
    if (method === 'GET') {
      checkIndexed(ctx, list);
      return collection(ctx, store.list(items), {
        kind: 'skiptoken',
        maxTop: 5000,
        defaultTop: 200,
        supports: { count: false },
        render: (i) => renderItem(ctx, site, list, i),
        context: `sites('${site.id}')/lists('${list.id}')/items`,
      });
    }
    if (method === 'POST') {
      const body = await ctx.json<{ fields?: unknown }>();
      const fields = validateFields(ctx.sandbox, list, body?.fields ?? {}, 'create');
      const by = identity(ctx.caller);
      const created = store.insert(items, {
        id: nextItemId(store, items),
        fields,
        createdBy: by,
        lastModifiedBy: by,
      });
      const expanded = new URLSearchParams({ $expand: 'fields' });
      return entityResponse(ctx, renderItem(ctx, site, list, created, expanded), {
        status: 201,
        context: `sites('${site.id}')/lists('${list.id}')/items/$entity`,
      });
    }
    throw unsupported();
  }

  if (itemId === 'delta' && fifth === undefined && method === 'GET') {
    return deltaResponse(ctx, items, {
      style: 'drive',
      render: (i, query) => renderItem(ctx, site, list, i, query),
      context: 'Collection(listItem)',
    });
  }

  const item = findItem(ctx, list, itemId);
  if (fifth === undefined) {
    if (method === 'GET') {
      return entityResponse(ctx, renderItem(ctx, site, list, item), {
        context: `sites('${site.id}')/lists('${list.id}')/items/$entity`,
      });
    }
    if (method === 'DELETE') {
      checkIfMatch(ctx, item);
      store.remove(items, item.id);
      return empty(204);
    }
    if (method === 'PATCH') {
      // listitem-update.md updates through /fields; a PATCH of the item itself takes {fields}.
      const body = await ctx.json<{ fields?: unknown }>();
      const updated = updateFields(ctx, list, item, body?.fields ?? {});
      return entityResponse(
        ctx,
        renderItem(ctx, site, list, updated, new URLSearchParams({ $expand: 'fields' })),
        {
          context: `sites('${site.id}')/lists('${list.id}')/items/$entity`,
        },
      );
    }
    throw unsupported();
  }
  if (fifth === 'fields' && rest.length === 5) {
    if (method === 'GET') {
      const version = store.record(items, item.id)?.version ?? 1;
      return entityResponse(ctx, fieldsOf(ctx.sandbox, item, version), {
        context: `sites('${site.id}')/lists('${list.id}')/items('${item.id}')/fields/$entity`,
      });
    }
    if (method === 'PATCH') {
      const updated = updateFields(ctx, list, item, await ctx.json());
      const version = store.record(items, item.id)?.version ?? 1;
      return entityResponse(ctx, fieldsOf(ctx.sandbox, updated, version), {
        context: `sites('${site.id}')/lists('${list.id}')/items('${item.id}')/fields/$entity`,
      });
    }
  }
  throw unsupported();
}

function updateFields(ctx: GraphCtx, list: Entity, item: Entity, body: unknown): Entity {
  checkIfMatch(ctx, item);
  const patch = validateFields(ctx.sandbox, list, body, 'update');
  const merged = { ...(item.fields as Record<string, unknown>), ...patch };
  for (const [k, v] of Object.entries(merged)) if (v === null) delete merged[k];
  return ctx.graph.store.update(itemsRef(ctx.graph.store, list.id), item.id, {
    fields: merged,
    lastModifiedBy: identity(ctx.caller),
  })!;
}

/** list-create.md: displayName, optional columns and `list.template` (genericList here). */
async function createList(ctx: GraphCtx, site: Entity): Promise<SandboxResponse> {
  const body = await ctx.json<{
    displayName?: unknown;
    description?: unknown;
    columns?: unknown;
    list?: { template?: unknown };
  }>();
  if (typeof body?.displayName !== 'string' || !body.displayName.trim()) {
    throw badRequest('drive', 'The list displayName is required.');
  }
  const template = body.list?.template ?? 'genericList';
  if (template !== 'genericList' && template !== 'documentLibrary') {
    throw badRequest(
      'drive',
      `The list template ${JSON.stringify(template)} is not supported here; use genericList or documentLibrary.`,
    );
  }
  const store = ctx.graph.store;
  const ref = listsRef(store, site.id);
  const name = body.displayName.trim();
  if (store.list(ref).some((l) => String(l.displayName).toLowerCase() === name.toLowerCase())) {
    throw new GraphHttpError(
      409,
      'nameAlreadyExists',
      `A list, survey, discussion board, or document library with the specified title already exists in this Web site.  Please choose another title.`,
    );
  }
  const columns = Array.isArray(body.columns) ? body.columns.map(columnFromBody) : [];
  const seen = new Set(allColumns({ id: '', columns: [] }).map((c) => c.name.toLowerCase()));
  for (const c of columns) {
    if (seen.has(c.name.toLowerCase()))
      throw badRequest('drive', `A column named '${c.name}' already exists in the list.`);
    seen.add(c.name.toLowerCase());
  }
  const created = store.insert(ref, {
    id: randomUUID(),
    name: name.replace(/[^A-Za-z0-9]/g, ''),
    displayName: name,
    description: typeof body.description === 'string' ? body.description : '',
    template,
    columns,
    createdBy: identity(ctx.caller),
  });
  return entityResponse(ctx, renderList(created, site, 1), {
    status: 201,
    context: `sites('${site.id}')/lists/$entity`,
  });
}

export function installSharePoint(sandbox: Sandbox): void {
  // site-search.md: `search` matches names and descriptions; `*` lists every site.
  graphRoute(sandbox, 'GET', '/sites', options(READ), (ctx) => {
    const term = (ctx.query.get('search') ?? '*').trim().toLowerCase();
    const sites = allSites(ctx).filter(
      (s) =>
        term === '*' ||
        term === '' ||
        [s.displayName, s.name, s.description].some(
          (v) => typeof v === 'string' && v.toLowerCase().includes(term),
        ),
    );
    return collection(ctx, sites, {
      kind: 'skiptoken',
      render: renderSite,
      context: 'sites',
      supports: { filter: false },
    });
  });
  graphRoute(sandbox, 'GET', '/me/followedSites', { ...options(READ), otherUsers: 'deny' }, (ctx) => {
    const followed = allSites(ctx).filter((s) =>
      ((s.followedBy as string[] | undefined) ?? []).includes(ctx.user!.id),
    );
    return collection(ctx, followed, { kind: 'skiptoken', render: renderSite, context: 'sites' });
  });
  registerDriveOwners(sandbox, (ownerId) => resolveLibraryOwner(sandbox, ownerId));
  // A site's libraries take the drive permissions (Files.*.All or Sites.*.All); the files module
  // checks which. Registered first: the generic site route below would ask for Sites.* only.
  const drives = /^\/sites\/(?:[^/:]+|[^/:]+:\/[^:]*:)\/(?:drives?|lists\/[^/]+\/drive)(?:[/:].*)?$/;
  const filesRead = {
    anyOf: ['Files.Read.All', 'Sites.Read.All'],
    app: ['Files.Read.All', 'Files.ReadWrite.All', 'Sites.Read.All', 'Sites.ReadWrite.All'],
  };
  const filesWrite = {
    anyOf: ['Files.ReadWrite.All', 'Sites.ReadWrite.All'],
    app: ['Files.ReadWrite.All', 'Sites.ReadWrite.All'],
  };
  graphRoute(sandbox, 'GET', drives, options(filesRead), (ctx) => handle(ctx, 'GET'));
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
    graphRoute(sandbox, method, drives, options(filesWrite), (ctx) => handle(ctx, method));
  }
  const site = /^\/sites\/(?<site>.+)$/;
  graphRoute(sandbox, 'GET', site, options(READ), (ctx) => handle(ctx, 'GET'));
  for (const method of ['POST', 'PATCH', 'DELETE']) {
    graphRoute(sandbox, method, site, options(WRITE), (ctx) => handle(ctx, method));
  }
}
