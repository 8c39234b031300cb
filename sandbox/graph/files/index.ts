/**
 * Graph OneDrive endpoints (reference §8.3, https://learn.microsoft.com/graph/api/resources/driveitem):
 * the drive, items addressed by id (`/items/{id}`) or path (`/root:/a/b.txt:`, `/items/{id}:/sub:`),
 * children, get, content (302 to a pre-authenticated URL), simple upload and upload sessions,
 * create folder, rename/move (PATCH), copy (202 + monitor), delete, search, recent, sharedWithMe,
 * createLink, permissions and root delta (drive style: the `deleted` facet, `token=latest`).
 * Forms: `/me/drive/...`, `/users/{id | upn}/drive/...` and `/drives/{driveId}/...`.
 *
 * Data: collection **`driveItems`** per user (store.collection(userId, 'driveItems'), drive
 * eTag/cTag). Every mutation goes through the store, so delta and change notifications see it.
 * File bytes are temp files on disk (state.ts), never memory.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Sandbox } from '../../context';
import { safeDecode, empty, json, type SandboxResponse } from '../../http';
import type { SandboxUser } from '../../state';
import { entityResponse, graphRoute, odataContext, type GraphCtx } from '../core';
import { deltaResponse } from '../delta';
import { GraphHttpError, accessDenied, badRequest, notFound } from '../errors';
import { collection } from '../paging';
import { handleWorkbook } from '../excel';
import { installPreauthUrls } from './preauth';
import {
  createLink,
  deletePermission,
  grantToUser,
  listPermissions,
  redeemShare,
  resolveShare,
  remoteItem,
  sharedRole,
  sharedWith,
  sharedWithUser,
  type LinkRequest,
} from './sharing';
import {
  DRIVE_ITEMS,
  childrenOf,
  conflictBehaviorOf,
  contentKey,
  copyTree,
  deleteTree,
  driveCtx,
  driveIdOf,
  driveType,
  ensureFolders,
  filesState,
  getItem,
  insertItem,
  isAncestor,
  isFolder,
  ownerOfDrive,
  parentIdOf,
  placeName,
  renderItem,
  requireItem,
  resolvePath,
  rootOf,
  store,
  updateItem,
  usedBytes,
  validateName,
  writeSmallFile,
  downloadUrl,
  type DriveCtx,
  type DriveOwner,
} from './state';
import { createUploadSession, dropSession, installUploadUrls, simpleUpload } from './upload';
import type { Entity } from '../store';

export { DRIVE_ITEMS };

// driveitem-get.md and its kin list Sites.Read.All / Sites.ReadWrite.All among the permissions of
// every drive call: they reach OneDrive as well as the document libraries of sites.
const READ = { anyOf: ['Files.Read', 'Sites.Read.All'], other: ['Files.Read.All', 'Sites.Read.All'] };
const WRITE = {
  anyOf: ['Files.ReadWrite', 'Sites.ReadWrite.All'],
  other: ['Files.ReadWrite.All', 'Sites.ReadWrite.All'],
};

/** An item address inside a drive: a base (root or id) plus an optional path below it. */
interface Address {
  baseId?: string;
  root: boolean;
  path?: string[];
}

interface Parsed {
  /** undefined for drive-level requests (`/drive`, `/drive/recent`, `/drive/search(...)`). */
  address?: Address;
  /** What follows the address: '', '/children', '/content', "/search(q='x')", ... (raw). */
  suffix: string;
}

function decodeSegments(raw: string): string[] {
  return raw
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        throw badRequest('drive', 'The path is not correctly encoded.');
      }
    });
}

/** Parses what follows `/drive` (or `/drives/{id}`), keeping Graph's `:path:` syntax. */
export function parseDrivePath(rest: string): Parsed {
  const base = /^\/(root|items\/([^/:]+))/i.exec(rest);
  if (!base) return { suffix: rest };
  const address: Address = base[2] ? { baseId: safeDecode(base[2]), root: false } : { root: true };
  let after = rest.slice(base[0].length);
  if (after.startsWith(':')) {
    const close = after.indexOf(':', 1);
    const rawPath = close === -1 ? after.slice(1) : after.slice(1, close);
    address.path = decodeSegments(rawPath);
    after = close === -1 ? '' : after.slice(close + 1);
  }
  return { address, suffix: after.replace(/\/$/, '') };
}

interface Request {
  ctx: GraphCtx;
  d: DriveCtx;
  parsed: Parsed;
  /** true when the caller is not the drive's owner (a drive shared with them). */
  foreign: boolean;
}

function baseIdOf(r: Request, address: Address): string {
  return address.root ? rootOf(r.d.sandbox, r.d.owner).id : (address.baseId ?? '');
}

function resolve(r: Request, address: Address): Entity {
  const item = requireItem(resolvePath(r.d, baseIdOf(r, address), address.path ?? []));
  if (r.foreign && !sharedWith(r.d, item, r.ctx.caller?.id ?? '')) throw accessDenied('drive');
  return item;
}

/** For uploads and creation by path: the parent folder (created as needed) and the new name. */
function targetOf(r: Request, address: Address): { parentId: string; name: string; itemId?: string } {
  const segments = address.path ?? [];
  if (segments.length === 0) {
    const item = resolve(r, address);
    if (isFolder(item)) throw badRequest('drive', 'The target is a folder; address a file name below it.');
    return { parentId: parentIdOf(item) ?? '', name: String(item.name), itemId: item.id };
  }
  const name = validateName(segments[segments.length - 1]);
  const parent = ensureFolders(r.d, baseIdOf(r, address), segments.slice(0, -1));
  return { parentId: parent.id, name };
}

function itemResponse(r: Request, item: Entity, status = 200): SandboxResponse {
  return entityResponse(r.ctx, renderItem(r.d, item), {
    status,
    context: `users('${r.d.owner.id}')/drive/items/$entity`,
  });
}

function checkIfMatch(r: Request, item: Entity): void {
  const ifMatch = r.ctx.headers['if-match'];
  if (typeof ifMatch === 'string' && ifMatch !== '*' && ifMatch !== item.eTag && ifMatch !== item.cTag) {
    throw new GraphHttpError(412, 'resourceModified', "ETag does not match current item's value", {
      innerCode: 'entityTagDoesNotMatch',
    });
  }
}

function hasScope(ctx: GraphCtx, ...scopes: string[]): boolean {
  const granted = new Set(ctx.auth.scopes.map((s) => s.toLowerCase()));
  return scopes.some((s) => granted.has(s.toLowerCase()));
}

function searchTerm(suffix: string): string | undefined {
  const m = /^\/search\(q=(?:'|%27)(.*)(?:'|%27)\)$/i.exec(suffix);
  if (!m) return undefined;
  // Inside the quotes a quote is doubled (OData string literal).
  return safeDecode(m[1] ?? '').replace(/''/g, "'");
}

function matchesTerms(name: string, term: string): boolean {
  const words = term.toLowerCase().split(/\s+/).filter(Boolean);
  const hay = name.toLowerCase();
  return words.every((w) => hay.includes(w));
}

function allDrives(sandbox: Sandbox): DriveCtx[] {
  return [...sandbox.directory.users.values()].map((u) => driveCtx(sandbox, u));
}

// ---------------------------------------------------------------- GET

/** The drive resource (drive.md): a user's OneDrive or a site's document library. */
export function driveJson(d: DriveCtx): Record<string, unknown> {
  const used = usedBytes(d);
  const total = filesState(d.sandbox).settings.quotaBytes;
  const library = (d.owner as DriveOwner).library;
  return {
    id: driveIdOf(d.owner.id),
    driveType: driveType(d.owner),
    name: library ? library.name : 'OneDrive',
    ...(library ? { webUrl: library.webUrl } : {}),
    owner: library
      ? { group: { id: library.siteId, displayName: library.siteName } }
      : { user: { id: d.owner.id, displayName: d.owner.displayName } },
    quota: { total, used, remaining: total - used, deleted: 0, state: 'normal' },
  };
}

/** `{item}/workbook/...`: the Excel workbook API on the item (sandbox/graph/excel). */
const WORKBOOK = /^\/workbook(?=\/|$)/i;

function workbook(r: Request): Promise<SandboxResponse> | undefined {
  const { address, suffix } = r.parsed;
  if (!address || !WORKBOOK.test(suffix)) return undefined;
  const item = resolve(r, address);
  // In another user's drive, changing the workbook needs a grant with the write role.
  const canWrite = !r.foreign || sharedRole(r.d, item, r.ctx.caller?.id ?? '') === 'write';
  return handleWorkbook(r.ctx, r.d, item, suffix.replace(WORKBOOK, ''), canWrite);
}

function handleGet(r: Request): SandboxResponse | Promise<SandboxResponse> {
  const excel = workbook(r);
  if (excel) return excel;
  const { ctx, d, parsed } = r;
  const { address, suffix } = parsed;
  if (!address) {
    if (suffix === '') {
      return entityResponse(ctx, driveJson(d), { context: `users('${d.owner.id}')/drive/$entity` });
    }
    if (/^\/recent$/i.test(suffix)) {
      // https://learn.microsoft.com/graph/api/drive-recent: files recently used, newest first.
      const files = store(d)
        .list(d.ref)
        .filter((i) => i.file !== undefined)
        .sort((a, b) => String(b.lastModifiedDateTime).localeCompare(String(a.lastModifiedDateTime)))
        .slice(0, 25);
      return json(200, {
        '@odata.context': `${d.sandbox.graphBaseUrl}/$metadata#Collection(driveItem)`,
        value: files.map((i) => renderItem(d, i)),
      });
    }
    if (/^\/sharedWithMe$/i.test(suffix)) {
      // https://learn.microsoft.com/graph/api/drive-sharedwithme: needs Files.Read.All.
      if (!hasScope(ctx, 'Files.Read.All', 'Files.ReadWrite.All')) {
        throw accessDenied(
          'drive',
          "Missing scope permissions on the request. API requires one of 'Files.Read.All, Files.ReadWrite.All'.",
        );
      }
      const items = sharedWithUser(allDrives(d.sandbox), d.owner).map(({ d: od, item }) => ({
        ...remoteItem(od, item),
      }));
      return collection(ctx, items, {
        kind: 'skiptoken',
        defaultTop: 200,
        maxTop: 1000,
        topOverMax: 'clamp',
        supports: { filter: false },
      });
    }
    const term = searchTerm(suffix);
    if (term !== undefined) {
      // /drive/search also finds items shared with the user, as remoteItem (reference §8.3).
      const own = searchOwn(d, term);
      const shared = sharedWithUser(allDrives(d.sandbox), d.owner)
        .filter(({ item }) => matchesTerms(String(item.name), term))
        .map(({ d: od, item }) => ({ ...remoteItem(od, item), searchResult: {} }));
      return collection(ctx, [...own, ...shared], {
        kind: 'skiptoken',
        defaultTop: 200,
        maxTop: 1000,
        topOverMax: 'clamp',
        supports: { filter: false },
      });
    }
    throw notFound('drive', `Unsupported drive segment '${suffix}'.`);
  }

  // Delta on the root (driveitem-delta.md): `?token=` or `/delta(token='...')`.
  if (/^\/delta(\(token=.*\))?$/i.test(suffix)) {
    if (!address.root || address.path?.length)
      throw badRequest('drive', 'Delta is only supported on the root folder.');
    if (r.foreign) throw accessDenied('drive');
    return deltaResponse(ctx, d.ref, {
      style: 'drive',
      render: (item) => renderItem(d, item),
      context: 'Collection(driveItem)',
    });
  }

  const item = resolve(r, address);
  if (suffix === '') return itemResponse(r, item);
  if (/^\/children$/i.test(suffix)) {
    if (!isFolder(item)) throw badRequest('drive', 'The item is not a folder.');
    return collection(ctx, childrenOf(d, item.id), {
      kind: 'skiptoken',
      defaultTop: 200,
      maxTop: 1000,
      topOverMax: 'clamp',
      defaultOrder: (a, b) => String(a.name).localeCompare(String(b.name)),
      render: (i) => renderItem(d, i),
      context: 'Collection(driveItem)',
    });
  }
  if (/^\/content$/i.test(suffix)) {
    if (isFolder(item)) throw badRequest('drive', 'Only files have content.');
    // if-none-match → 304 (reference §8.3).
    const inm = ctx.headers['if-none-match'];
    if (typeof inm === 'string' && (inm === item.eTag || inm === item.cTag)) return empty(304);
    // 302 to a pre-authenticated URL, followed WITHOUT the token (driveitem-get-content.md).
    return empty(302, { location: downloadUrl(d, item.id) });
  }
  const term = searchTerm(suffix);
  if (term !== undefined) {
    if (!isFolder(item)) throw badRequest('drive', 'Search runs on folders.');
    const within = searchOwn(d, term).filter(
      (i) => isAncestor(d, item.id, getItem(d, String(i.id)) ?? item) && i.id !== item.id,
    );
    return collection(ctx, within, {
      kind: 'skiptoken',
      defaultTop: 200,
      maxTop: 1000,
      topOverMax: 'clamp',
      supports: { filter: false },
    });
  }
  if (/^\/permissions$/i.test(suffix)) {
    if (r.foreign) throw accessDenied('drive');
    return collection(ctx, listPermissions(d, item), {
      kind: 'skiptoken',
      defaultTop: 200,
      supports: { filter: false },
      context: 'Collection(permission)',
    });
  }
  const perm = /^\/permissions\/([^/]+)$/i.exec(suffix);
  if (perm) {
    const found = listPermissions(d, item).find((p) => p.id === safeDecode(perm[1] ?? ''));
    if (!found) throw notFound('drive', 'The permission was not found.');
    return entityResponse(ctx, found, { context: 'permission/$entity' });
  }
  throw notFound('drive', `Unsupported segment '${suffix}'.`);
}

/** Text of a small text-like file (search matches content too, reference §8.3). */
function searchableText(d: DriveCtx, item: Entity): string {
  const mime = String((item.file as { mimeType?: string } | undefined)?.mimeType ?? '');
  const path = filesState(d.sandbox).content.get(contentKey(d.owner.id, item.id));
  if (!path || Number(item.size ?? 0) > 1024 * 1024) return '';
  if (!/^text\/|json|wordprocessingml|spreadsheetml/.test(mime)) return '';
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Search in the user's own drive: every word in the name or in the text of small files. */
function searchOwn(d: DriveCtx, term: string): Array<Record<string, unknown>> {
  return store(d)
    .list(d.ref)
    .filter(
      (i) =>
        i.root === undefined &&
        (matchesTerms(String(i.name), term) ||
          matchesTerms(`${String(i.name)} ${searchableText(d, i)}`, term)),
    )
    .map((i) => ({ ...renderItem(d, i), searchResult: {} }));
}

// ---------------------------------------------------------------- writes

async function handlePost(r: Request): Promise<SandboxResponse> {
  const excel = workbook(r);
  if (excel) return await excel;
  const { ctx, d, parsed } = r;
  const { address, suffix } = parsed;
  if (!address) throw notFound('drive', `Unsupported drive segment '${suffix}'.`);
  if (r.foreign) throw accessDenied('drive');

  if (/^\/createUploadSession$/i.test(suffix)) return await createUploadSession(ctx, d, targetOf(r, address));

  const item = resolve(r, address);
  if (/^\/children$/i.test(suffix)) {
    // https://learn.microsoft.com/graph/api/driveitem-post-children (201; 409 nameAlreadyExists with fail).
    if (!isFolder(item)) throw badRequest('drive', 'The parent is not a folder.');
    const body = await ctx.json<Record<string, unknown>>();
    const name = validateName(body.name);
    if (body.folder === undefined)
      throw badRequest('drive', 'Only folders can be created this way; upload files with PUT /content.');
    const behavior = conflictBehaviorOf(
      body['@microsoft.graph.conflictBehavior'] ?? ctx.query.get('@microsoft.graph.conflictBehavior'),
      'fail',
    );
    const placed = placeName(d, item.id, name, behavior);
    if (placed.existing) deleteTree(d, placed.existing);
    const folder = insertItem(d, item.id, placed.name, {
      folder: { childCount: 0 },
      ...(typeof body.description === 'string' ? { description: body.description } : {}),
    });
    return itemResponse(r, folder, 201);
  }
  if (/^\/copy$/i.test(suffix)) return await copyItem(r, item);
  if (/^\/createLink$/i.test(suffix)) {
    const body = await ctx.json<LinkRequest>();
    const { status, permission } = createLink(d, item, body, { id: ctx.auth.clientId });
    return json(status, {
      '@odata.context': `${d.sandbox.graphBaseUrl}/$metadata#permission`,
      ...permission,
    });
  }
  throw notFound('drive', `Unsupported segment '${suffix}'.`);
}

/**
 * POST /copy (https://learn.microsoft.com/graph/api/driveitem-copy): 202 Accepted with a
 * Location to a monitor. The copy's outcome (done, or failed with nameAlreadyExists) is decided
 * now and reported by the monitor after `copyPollsBeforeDone` inProgress answers.
 */
async function copyItem(r: Request, source: Entity): Promise<SandboxResponse> {
  const { ctx, d } = r;
  if (source.root !== undefined) throw badRequest('drive', 'The root folder cannot be copied.');
  const body = await ctx.json<{ parentReference?: { id?: string; driveId?: string }; name?: string }>();
  const targetParentId = body.parentReference?.id ?? parentIdOf(source) ?? '';
  if (body.parentReference?.driveId && body.parentReference.driveId !== driveIdOf(d.owner.id)) {
    throw badRequest('drive', 'Copies to another drive are not supported by the sandbox.');
  }
  const parent = getItem(d, targetParentId);
  if (!parent || !isFolder(parent)) throw notFound('drive', 'The destination folder was not found.');
  if (isFolder(source) && isAncestor(d, source.id, parent)) {
    throw badRequest('drive', 'A folder cannot be copied into itself.');
  }
  const name = validateName(body.name ?? source.name);
  const behavior = conflictBehaviorOf(ctx.query.get('@microsoft.graph.conflictBehavior'), 'fail');
  const job = { id: randomBytes(16).toString('hex'), polls: 0 } as {
    id: string;
    polls: number;
    status: 'completed' | 'failed';
    resourceId?: string;
    error?: { code: string; message: string };
  };
  try {
    const placed = placeName(d, parent.id, name, behavior);
    if (placed.existing) deleteTree(d, placed.existing);
    job.resourceId = copyTree(d, source, parent.id, placed.name).id;
    job.status = 'completed';
  } catch (err) {
    if (!(err instanceof GraphHttpError)) throw err;
    job.status = 'failed';
    job.error = { code: err.code, message: err.message };
  }
  filesState(d.sandbox).copies.set(job.id, job);
  return empty(202, { location: `${d.sandbox.preauthBaseUrl}/preauth/monitor/${job.id}` });
}

async function handlePatch(r: Request): Promise<SandboxResponse> {
  const excel = workbook(r);
  if (excel) return await excel;
  const { ctx, d, parsed } = r;
  if (!parsed.address || parsed.suffix !== '')
    throw notFound('drive', `Unsupported segment '${parsed.suffix}'.`);
  if (r.foreign) throw accessDenied('drive');
  const item = resolve(r, parsed.address);
  checkIfMatch(r, item);
  const body = await ctx.json<{
    name?: string;
    parentReference?: { id?: string; path?: string };
    description?: string;
  }>();
  if (item.root !== undefined && (body.name !== undefined || body.parentReference !== undefined)) {
    throw badRequest('drive', 'The root folder cannot be renamed or moved.');
  }
  // https://learn.microsoft.com/graph/api/driveitem-move and driveitem-update.
  let parentId = parentIdOf(item) ?? '';
  if (body.parentReference?.id || body.parentReference?.path) {
    const target = body.parentReference.id
      ? getItem(d, body.parentReference.id)
      : resolvePath(
          d,
          rootOf(d.sandbox, d.owner).id,
          (body.parentReference.path ?? '')
            .replace(/^\/drive\/root:?/i, '')
            .split('/')
            .filter(Boolean),
        );
    if (!target || !isFolder(target)) throw notFound('drive', 'The destination folder was not found.');
    if (isFolder(item) && isAncestor(d, item.id, target)) {
      throw badRequest('drive', 'A folder cannot be moved into itself or one of its subfolders.');
    }
    parentId = target.id;
  }
  const name = body.name !== undefined ? validateName(body.name) : String(item.name);
  const behavior = conflictBehaviorOf(ctx.query.get('@microsoft.graph.conflictBehavior'), 'fail');
  const placed = placeName(d, parentId, name, behavior, item.id);
  if (placed.existing) deleteTree(d, placed.existing);
  const oldParent = parentIdOf(item);
  const updated = updateItem(d, item.id, {
    name: placed.name,
    parentReference: { ...(item.parentReference as Record<string, unknown>), id: parentId },
    ...(body.description !== undefined ? { description: body.description } : {}),
  });
  if (oldParent && oldParent !== parentId) {
    // The old folder changes too (delta shows it).
    updateItem(d, oldParent, {});
  }
  if (isFolder(updated)) {
    // Paths of everything below change: delta reports them.
    for (const child of childrenOf(d, updated.id)) updateItem(d, child.id, {});
  }
  return itemResponse(r, updated);
}

async function handlePut(r: Request): Promise<SandboxResponse> {
  const { ctx, d, parsed } = r;
  if (!parsed.address || !/^\/content$/i.test(parsed.suffix))
    throw notFound('drive', `Unsupported segment '${parsed.suffix}'.`);
  if (r.foreign) throw accessDenied('drive');
  // Simple upload: default conflictBehavior replace (reference §8.3).
  const behavior = conflictBehaviorOf(ctx.query.get('@microsoft.graph.conflictBehavior'), 'replace');
  return await simpleUpload(ctx, d, targetOf(r, parsed.address), behavior);
}

function handleDelete(r: Request): SandboxResponse {
  const { d, parsed } = r;
  if (!parsed.address) throw notFound('drive', `Unsupported drive segment '${parsed.suffix}'.`);
  if (r.foreign) throw accessDenied('drive');
  const item = resolve(r, parsed.address);
  const perm = /^\/permissions\/([^/]+)$/i.exec(parsed.suffix);
  if (perm) {
    deletePermission(d, item, safeDecode(perm[1] ?? ''));
    return empty(204);
  }
  if (parsed.suffix !== '') throw notFound('drive', `Unsupported segment '${parsed.suffix}'.`);
  if (item.root !== undefined) throw accessDenied('drive', 'The root folder cannot be deleted.');
  checkIfMatch(r, item);
  // 204; the item goes to the recycle bin (driveitem-delete.md) — gone from the drive and from delta.
  deleteTree(d, item);
  return empty(204);
}

// ---------------------------------------------------------------- routing

function requestFor(ctx: GraphCtx): Request {
  const me = /^\/v1\.0\/(?:me|users\/[^/]+)\/drive(\/.*)?$/i.exec(ctx.path);
  if (me) {
    if (!ctx.user) throw notFound('drive');
    return {
      ctx,
      d: driveCtx(ctx.sandbox, ctx.user, ctx.caller),
      parsed: parseDrivePath(me[1] ?? ''),
      foreign: false,
    };
  }
  const drives = /^\/v1\.0\/drives\/([^/]+)(\/.*)?$/i.exec(ctx.path);
  const owner = drives ? ownerOfDrive(ctx.sandbox, safeDecode(drives[1] ?? '')) : undefined;
  if (!drives || !owner) throw notFound('drive');
  if (owner.library) return libraryRequest(ctx, owner, drives[2] ?? '');
  const caller: SandboxUser | undefined = ctx.caller;
  const foreign = !ctx.auth.appOnly && caller?.id !== owner.id;
  if (foreign && !hasScope(ctx, 'Files.Read.All', 'Files.ReadWrite.All')) throw accessDenied('drive');
  return { ctx, d: driveCtx(ctx.sandbox, owner, caller), parsed: parseDrivePath(drives[2] ?? ''), foreign };
}

/**
 * A document library: every member of the site reaches all of it (the sandbox's sites are open
 * to the whole tenant), with a tenant-wide permission: Files.Read.All or Sites.Read.All to read,
 * Files.ReadWrite.All or Sites.ReadWrite.All to write (driveitem-get.md, driveitem-put-content.md).
 */
function libraryRequest(ctx: GraphCtx, owner: DriveOwner, rest: string): Request {
  const write = ctx.method !== 'GET';
  const allowed = write
    ? hasScope(ctx, 'Files.ReadWrite.All', 'Sites.ReadWrite.All')
    : hasScope(ctx, 'Files.Read.All', 'Files.ReadWrite.All', 'Sites.Read.All', 'Sites.ReadWrite.All');
  if (!ctx.auth.appOnly && !allowed) {
    throw accessDenied(
      'drive',
      `A document library needs ${write ? 'Files.ReadWrite.All or Sites.ReadWrite.All' : 'Files.Read.All or Sites.Read.All'}.`,
    );
  }
  return { ctx, d: driveCtx(ctx.sandbox, owner, ctx.caller), parsed: parseDrivePath(rest), foreign: false };
}

/** Serves a library request reached through its site (`/sites/{id}/drive/...`, sharepoint/). */
export async function handleLibrary(
  ctx: GraphCtx,
  owner: DriveOwner,
  rest: string,
): Promise<SandboxResponse> {
  const r = libraryRequest(ctx, owner, rest);
  switch (ctx.method) {
    case 'GET':
      return await handleGet(r);
    case 'POST':
      return await handlePost(r);
    case 'PUT':
      return await handlePut(r);
    case 'PATCH':
      return await handlePatch(r);
    case 'DELETE':
      return handleDelete(r);
    default:
      throw badRequest('drive', `${ctx.method} is not supported here.`);
  }
}

export function installFiles(sandbox: Sandbox): void {
  filesState(sandbox);
  const options = { workload: 'drive' as const, throttle: 'none' as const };
  // https://learn.microsoft.com/graph/api/drive-list: the drives available to the user (here the
  // OneDrive; SharePoint libraries are not emulated yet).
  graphRoute(sandbox, 'GET', '/me/drives', { ...options, scopes: READ }, (ctx) => {
    if (!ctx.user) throw notFound('drive');
    const d = driveCtx(ctx.sandbox, ctx.user, ctx.caller);
    return json(200, { '@odata.context': odataContext(ctx, 'drives'), value: [driveJson(d)] });
  });
  const patterns = [/^\/me\/drive(?:\/.*)?$/, /^\/drives\/[^/]+(?:\/.*)?$/];
  for (const pattern of patterns) {
    graphRoute(sandbox, 'GET', pattern, { ...options, scopes: READ }, (ctx) => handleGet(requestFor(ctx)));
    graphRoute(sandbox, 'POST', pattern, { ...options, scopes: WRITE }, (ctx) => handlePost(requestFor(ctx)));
    graphRoute(sandbox, 'PUT', pattern, { ...options, scopes: WRITE }, (ctx) => handlePut(requestFor(ctx)));
    graphRoute(sandbox, 'PATCH', pattern, { ...options, scopes: WRITE }, (ctx) =>
      handlePatch(requestFor(ctx)),
    );
    graphRoute(sandbox, 'DELETE', pattern, { ...options, scopes: WRITE }, (ctx) =>
      handleDelete(requestFor(ctx)),
    );
  }
  // https://learn.microsoft.com/graph/api/shares-get: a sharing link (`u!` + base64url of the URL)
  // or share id → the shared item; `Prefer: redeemSharingLink` keeps the caller's access.
  const shareScopes = {
    anyOf: ['Files.Read.All', 'Files.ReadWrite.All', 'Sites.Read.All', 'Sites.ReadWrite.All'],
  };
  graphRoute(
    sandbox,
    'GET',
    /^\/shares\/[^/]+(?:\/driveItem)?$/,
    { ...options, scopes: shareScopes },
    (ctx) => {
      const m = /^\/v1\.0\/shares\/([^/]+)(\/driveItem)?$/i.exec(ctx.path);
      const { d, item, permission } = resolveShare(ctx.sandbox, safeDecode(m?.[1] ?? ''), ctx.caller);
      if (ctx.caller && /(^|[\s,;])redeemSharingLink(\s*($|[,;]))/i.test(String(ctx.headers.prefer ?? ''))) {
        redeemShare(d, item, permission, ctx.caller);
      }
      const rendered = renderItem(d, item);
      if (m?.[2]) return entityResponse(ctx, rendered, { context: 'shares/driveItem/$entity' });
      return json(200, {
        id: permission.shareId,
        name: item.name,
        owner: { user: { id: d.owner.id, displayName: d.owner.displayName } },
      });
    },
  );
  installUploadUrls(sandbox);
  installPreauthUrls(sandbox);
  installFilesControl(sandbox);
}

/**
 * Control routes (tests and demos): PUT /_sandbox/files/settings, POST /_sandbox/files/fragment-faults
 * {status, count?, afterWrite?}, POST /_sandbox/files/upload-sessions/expire, GET /_sandbox/files/upload-sessions.
 */
function installFilesControl(sandbox: Sandbox): void {
  const c = sandbox.control;
  c.on('GET', '/files/settings', () => json(200, filesState(sandbox).settings));
  c.on('PUT', '/files/settings', async (ctx) => {
    const body = await ctx.json<Record<string, unknown>>();
    const settings = filesState(sandbox).settings;
    if (typeof body.anonymousLinks === 'boolean') settings.anonymousLinks = body.anonymousLinks;
    for (const k of ['copyPollsBeforeDone', 'uploadSessionLifetimeSeconds', 'quotaBytes'] as const) {
      if (typeof body[k] === 'number' && body[k] >= 0) settings[k] = body[k];
    }
    return json(200, settings);
  });
  c.on('POST', '/files/fragment-faults', async (ctx) => {
    const body = await ctx.json<{ status?: number; count?: number; afterWrite?: boolean }>();
    filesState(sandbox).fragmentFaults.push({
      status: body.status ?? 503,
      remaining: body.count ?? 1,
      afterWrite: body.afterWrite === true,
    });
    return empty(204);
  });
  c.on('POST', '/files/upload-sessions/expire', () => {
    const state = filesState(sandbox);
    const count = state.sessions.size;
    for (const session of [...state.sessions.values()]) dropSession(sandbox, session);
    return json(200, { expired: count });
  });
  c.on('GET', '/files/upload-sessions', () =>
    json(200, {
      value: [...filesState(sandbox).sessions.values()].map((s) => ({
        id: s.id,
        userId: s.userId,
        name: s.name,
        received: s.received,
        fileSize: s.fileSize ?? null,
      })),
    }),
  );
}

/** Demo data for the seeded users (npm start): a few folders and small files, one shared item. */
export function seedFiles(sandbox: Sandbox): void {
  const user = (upn: string) => sandbox.directory.findUser(upn);
  const adele = user('adele.vance@contoso.test');
  const megan = user('megan.bowen@contoso.test');
  const lee = user('lee.gu@contoso.test');
  const text = (s: string) => Buffer.from(s, 'utf8');
  if (adele) {
    const d = driveCtx(sandbox, adele);
    const root = rootOf(sandbox, adele).id;
    const projects = ensureFolders(d, root, ['Projects', 'Contoso Launch']);
    writeSmallFile(
      d,
      projects.id,
      'Launch Plan.docx',
      text('Contoso launch plan\nMilestones: beta in May, GA in September.\n'),
    );
    writeSmallFile(d, projects.id, 'Budget.xlsx', text('item,amount\nads,12000\nevents,8000\n'));
    const reports = ensureFolders(d, root, ['Reports']);
    writeSmallFile(d, reports.id, 'Q3 Report.pdf', text('%PDF-1.4 sandbox report placeholder\n'));
    writeSmallFile(d, root, 'Notes.txt', text('Call Megan about the Q3 campaign brief.\n'));
  }
  if (megan) {
    const d = driveCtx(sandbox, megan);
    const campaign = ensureFolders(d, rootOf(sandbox, megan).id, ['Campaign']);
    const brief = writeSmallFile(
      d,
      campaign.id,
      'Q3 Campaign Brief.docx',
      text('Q3 campaign brief: audiences, channels, budget.\n'),
    );
    if (adele) grantToUser(d, brief, adele, 'write');
  }
  if (lee) {
    const d = driveCtx(sandbox, lee);
    const specs = ensureFolders(d, rootOf(sandbox, lee).id, ['Specs']);
    writeSmallFile(d, specs.id, 'API Design.md', text('# API design\n\nResources, errors, paging.\n'));
    if (adele) grantToUser(d, specs, adele, 'read');
  }
}
