/**
 * OneDrive state of the sandbox: one drive per user whose items live in the change-tracking store
 * (collection `driveItems`, drive eTag/cTag style), file bytes in temp files on disk (never in
 * memory: uploads of any size stream straight to `os.tmpdir()/m365-sandbox-<pid>/...`), upload
 * sessions, copy jobs and sharing permissions. Tree helpers (path resolution, name conflicts,
 * rendering with computed `parentReference.path` and `folder.childCount`) are shared by the
 * route handlers in index.ts, upload.ts and preauth.ts.
 * Shapes: reference §8.3, https://learn.microsoft.com/graph/api/resources/driveitem
 */
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Sandbox } from '../../context';
import { discardFile, persisted } from '../../persist';
import type { SandboxUser } from '../../state';
import { graphState } from '../core';
import { GraphHttpError, badRequest, notFound } from '../errors';
import { QuickXorHash } from './hash';
import { driveItemId, graphTimestamp, type CollectionRef, type Entity } from '../store';

/** The store collection of a user's drive items (stable name; change notifications use it). */
export const DRIVE_ITEMS = 'driveItems';

export type ConflictBehavior = 'fail' | 'replace' | 'rename';

export interface Permission {
  id: string;
  roles: string[];
  link?: {
    type: string;
    scope: string;
    webUrl: string;
    preventsDownload: boolean;
    application?: { id: string; displayName: string };
  };
  grantedToV2?: { user: { id: string; displayName: string; email: string } };
  hasPassword?: boolean;
  expirationDateTime?: string;
  shareId?: string;
}

export interface UploadSession {
  id: string;
  userId: string;
  /** New item under parentId named `name`, or a new version of `itemId`. */
  parentId: string;
  name: string;
  itemId?: string;
  conflictBehavior: ConflictBehavior;
  fileSize?: number;
  /** Bytes received in order: nextExpectedRanges is `${received}-`. */
  received: number;
  expiresAt: number;
  deferCommit: boolean;
  tempPath: string;
  sha1: ReturnType<typeof createHash>;
  quickXor: QuickXorHash;
  description?: string;
}

export interface CopyJob {
  id: string;
  polls: number;
  status: 'completed' | 'failed';
  resourceId?: string;
  error?: { code: string; message: string };
}

export interface FilesSettings {
  /** Anonymous ("anyone") links allowed; admins can turn them off (createlink.md). */
  anonymousLinks: boolean;
  /** How many monitor polls report inProgress before a copy reports completed. */
  copyPollsBeforeDone: number;
  /** Upload session lifetime without activity. */
  uploadSessionLifetimeSeconds: number;
  /** Drive size (507 quotaLimitReached beyond it). */
  quotaBytes: number;
}

/** A sandbox-only fault on upload fragments: answer `status` before or after storing the bytes. */
export interface FragmentFault {
  status: number;
  remaining: number;
  /** true: the fragment is stored, then the answer is lost (the client must ask where to resume). */
  afterWrite: boolean;
}

export interface FilesModule {
  dir: string;
  /** Signs pre-authenticated download URLs. */
  secret: Buffer;
  roots: Map<string, string>;
  /** `${userId}/${itemId}` → content file on disk. */
  content: Map<string, string>;
  sessions: Map<string, UploadSession>;
  copies: Map<string, CopyJob>;
  /** `${userId}/${itemId}` → sharing permissions set on the item itself. */
  permissions: Map<string, Permission[]>;
  settings: FilesSettings;
  fragmentFaults: FragmentFault[];
}

const PROCESS_DIR = join(tmpdir(), `m365-sandbox-${process.pid}`);
let exitHookInstalled = false;

/**
 * The files module state of a sandbox (created on first use). In memory-only sandboxes the bytes
 * live in a temp directory removed when the sandbox stops; a persisted sandbox keeps them in its
 * state directory (sandbox/persist.ts).
 */
export function filesState(sandbox: Sandbox): FilesModule {
  let state = sandbox.modules.files as FilesModule | undefined;
  if (state) return state;
  const persistence = sandbox.persistence;
  const dir = persistence?.filesDir ?? join(PROCESS_DIR, randomUUID());
  mkdirSync(dir, { recursive: true });
  state = {
    dir,
    secret: randomBytes(32),
    roots: new Map(),
    content: new Map(),
    sessions: new Map(),
    copies: new Map(),
    permissions: new Map(),
    settings: {
      anonymousLinks: true,
      copyPollsBeforeDone: 1,
      uploadSessionLifetimeSeconds: 48 * 3600,
      quotaBytes: 1024 ** 4,
    },
    fragmentFaults: [],
  };
  sandbox.modules.files = state;
  if (persistence) {
    const s = state;
    const saved = persisted(sandbox, 'files', () => ({
      secret: s.secret,
      roots: s.roots,
      // Names, not paths: the state directory may move with the checkout.
      content: new Map([...s.content].map(([key, path]) => [key, basename(path)])),
      copies: s.copies,
      permissions: s.permissions,
      settings: s.settings,
    }));
    if (saved) {
      Object.assign(state, saved, {
        content: new Map([...saved.content].map(([key, name]) => [key, join(dir, name)])),
      });
    }
    persistence.collectGarbage(state.content.values());
    return state;
  }
  // Content lives on disk: remove it when the sandbox stops, and whatever is left when the process exits.
  const stop = sandbox.stop.bind(sandbox);
  (sandbox as { stop: () => Promise<void> }).stop = async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  };
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => rmSync(PROCESS_DIR, { recursive: true, force: true }));
  }
  return state;
}

export function newContentPath(state: FilesModule): string {
  return join(state.dir, randomUUID());
}

export function removeFile(path: string | undefined): void {
  if (!path) return;
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

// ---------------------------------------------------------------- drives

/** Drive ids look like business ones (`b!` + opaque); ours encode the owner's user id. */
export function driveIdOf(userId: string): string {
  return `b!${Buffer.from(userId).toString('base64url')}`;
}

/**
 * The owner of a drive: a user (their OneDrive) or a SharePoint document library, which the
 * drive model serves the same way (items, upload sessions, delta, permissions). A library is an
 * owner with `library` set; sharepoint/ registers how to find them (registerDriveOwners).
 */
export interface DriveOwner extends SandboxUser {
  library?: {
    siteId: string;
    siteName: string;
    listId: string;
    name: string;
    /** The library's address: https://{host}/sites/x/Shared%20Documents */
    webUrl: string;
  };
}

type OwnerResolver = (ownerId: string) => DriveOwner | undefined;
const ownerResolvers = new WeakMap<Sandbox, OwnerResolver[]>();

/** Lets another module (sharepoint/) own drives: `resolve` answers for the owner ids it knows. */
export function registerDriveOwners(sandbox: Sandbox, resolve: OwnerResolver): void {
  ownerResolvers.set(sandbox, [...(ownerResolvers.get(sandbox) ?? []), resolve]);
}

/** A drive's owner by id: a directory user, else a registered owner (a document library). */
export function driveOwnerById(sandbox: Sandbox, ownerId: string): DriveOwner | undefined {
  const user = sandbox.directory.users.get(ownerId);
  if (user) return user;
  for (const resolve of ownerResolvers.get(sandbox) ?? []) {
    const owner = resolve(ownerId);
    if (owner) return owner;
  }
  return undefined;
}

export function ownerOfDrive(sandbox: Sandbox, driveId: string): DriveOwner | undefined {
  if (!driveId.startsWith('b!')) return undefined;
  return driveOwnerById(sandbox, Buffer.from(driveId.slice(2), 'base64url').toString('utf8'));
}

export function driveType(user: DriveOwner): 'business' | 'personal' | 'documentLibrary' {
  if (user.library) return 'documentLibrary';
  return user.accountType === 'personal' ? 'personal' : 'business';
}

export function driveRef(sandbox: Sandbox, userId: string): CollectionRef {
  return graphState(sandbox).store.collection(userId, DRIVE_ITEMS, { etag: 'drive' });
}

function identity(user: SandboxUser) {
  return { user: { id: user.id, displayName: user.displayName, email: user.mail } };
}

/** The root folder of a user's drive (created on first use). */
export function rootOf(sandbox: Sandbox, user: SandboxUser): Entity {
  const state = filesState(sandbox);
  const store = graphState(sandbox).store;
  const ref = driveRef(sandbox, user.id);
  const existing = state.roots.get(user.id);
  const found = existing ? store.get(ref, existing) : undefined;
  if (found) return found;
  const root = store.insert(ref, {
    id: driveItemId(),
    name: 'root',
    root: {},
    folder: { childCount: 0 },
    size: 0,
    parentReference: { driveId: driveIdOf(user.id), driveType: driveType(user) },
    createdBy: identity(user),
    lastModifiedBy: identity(user),
  });
  state.roots.set(user.id, root.id);
  return root;
}

export interface DriveCtx {
  sandbox: Sandbox;
  /** The drive's owner. */
  owner: SandboxUser;
  /** Who acts (createdBy / lastModifiedBy). */
  actor: SandboxUser;
  ref: CollectionRef;
}

export function driveCtx(sandbox: Sandbox, owner: SandboxUser, actor?: SandboxUser): DriveCtx {
  rootOf(sandbox, owner);
  return { sandbox, owner, actor: actor ?? owner, ref: driveRef(sandbox, owner.id) };
}

export function store(d: DriveCtx) {
  return graphState(d.sandbox).store;
}

export function getItem(d: DriveCtx, id: string): Entity | undefined {
  return store(d).get(d.ref, id);
}

export function parentIdOf(item: Entity): string | undefined {
  return (item.parentReference as { id?: string } | undefined)?.id;
}

export function isFolder(item: Entity): boolean {
  return item.folder !== undefined;
}

export function childrenOf(d: DriveCtx, parentId: string): Entity[] {
  return store(d)
    .list(d.ref)
    .filter((i) => parentIdOf(i) === parentId);
}

export function findChild(d: DriveCtx, parentId: string, name: string): Entity | undefined {
  const lower = name.toLowerCase();
  // OneDrive names are case-insensitive within a folder.
  return childrenOf(d, parentId).find((c) => String(c.name).toLowerCase() === lower);
}

/** Names of the folders from the root down to the item (root excluded). */
export function namesOf(d: DriveCtx, item: Entity): string[] {
  const names: string[] = [];
  let cur: Entity | undefined = item;
  for (let guard = 0; cur && cur.root === undefined && guard < 1000; guard++) {
    names.unshift(String(cur.name));
    const pid = parentIdOf(cur);
    cur = pid ? getItem(d, pid) : undefined;
  }
  return names;
}

export function isAncestor(d: DriveCtx, ancestorId: string, item: Entity): boolean {
  let cur: Entity | undefined = item;
  for (let guard = 0; cur && guard < 1000; guard++) {
    if (cur.id === ancestorId) return true;
    const pid = parentIdOf(cur);
    cur = pid ? getItem(d, pid) : undefined;
  }
  return false;
}

/** Every item under a folder (depth first, children before their parent). */
export function descendants(d: DriveCtx, folderId: string): Entity[] {
  const out: Entity[] = [];
  for (const child of childrenOf(d, folderId)) {
    if (isFolder(child)) out.push(...descendants(d, child.id));
    out.push(child);
  }
  return out;
}

/** Resolves `root:/a/b` or `items/{id}:/a/b` segments to an item (undefined when missing). */
export function resolvePath(d: DriveCtx, baseId: string, segments: string[]): Entity | undefined {
  let cur = getItem(d, baseId);
  for (const name of segments) {
    if (!cur || !isFolder(cur)) return undefined;
    cur = findChild(d, cur.id, name);
  }
  return cur;
}

// OneDrive's invalid characters and names ("Restrictions and limitations in OneDrive and
// SharePoint", https://support.microsoft.com/office/64883a5d-228e-48f5-b3d2-eb39e07630fa): the
// characters " * : < > ? / \ | and control characters (CR/LF among them); the names .lock, CON,
// PRN, AUX, NUL, COM0-COM9, LPT0-LPT9 (also with an extension), desktop.ini; _vti_ anywhere; and a
// name starting with ~$.
const INVALID_NAME = /["*:<>?/\\|\p{Cc}]/u;
const RESERVED_NAME = /^(\.lock|desktop\.ini|(con|prn|aux|nul|com\d|lpt\d)(\..*)?)$/i;

export function validateName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') throw badRequest('drive', 'The name is missing.');
  if (
    INVALID_NAME.test(name) ||
    RESERVED_NAME.test(name) ||
    /_vti_/i.test(name) ||
    name.startsWith('~$') ||
    name.endsWith('.') ||
    name !== name.trim() ||
    name.length > 255
  ) {
    throw new GraphHttpError(400, 'invalidRequest', 'The provided name contains invalid characters.', {
      innerCode: 'invalidName',
    });
  }
  return name;
}

/** Walks a path from the base folder, creating missing folders (uploads by path, observed). */
export function ensureFolders(d: DriveCtx, baseId: string, segments: string[]): Entity {
  let cur = getItem(d, baseId);
  if (!cur) throw notFound('drive');
  for (const name of segments) {
    if (!isFolder(cur)) throw notFound('drive');
    const next: Entity | undefined = findChild(d, cur.id, name);
    cur = next ?? insertItem(d, cur.id, validateName(name), { folder: { childCount: 0 } });
  }
  if (!isFolder(cur)) throw notFound('drive');
  return cur;
}

export function nameConflict(): GraphHttpError {
  // 409 nameAlreadyExists (reference §1.2, §8.3; driveitem-post-children.md).
  return new GraphHttpError(409, 'nameAlreadyExists', 'The specified item name already exists.');
}

/** `Report.docx` → `Report 1.docx`, `Report 2.docx`, ... (OneDrive's rename pattern). */
export function uniqueName(d: DriveCtx, parentId: string, name: string): string {
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot) : '';
  for (let n = 1; ; n++) {
    const candidate = `${stem} ${n}${ext}`;
    if (!findChild(d, parentId, candidate)) return candidate;
  }
}

/**
 * Applies `@microsoft.graph.conflictBehavior` for a new name in a folder: the name to use and
 * the existing item to replace, or 409 nameAlreadyExists for `fail`.
 */
export function placeName(
  d: DriveCtx,
  parentId: string,
  name: string,
  behavior: ConflictBehavior,
  selfId?: string,
): { name: string; existing?: Entity } {
  const existing = findChild(d, parentId, name);
  if (!existing || existing.id === selfId) return { name };
  if (behavior === 'fail') throw nameConflict();
  if (behavior === 'rename') return { name: uniqueName(d, parentId, name) };
  return { name, existing };
}

export function conflictBehaviorOf(value: unknown, fallback: ConflictBehavior): ConflictBehavior {
  if (value === undefined || value === null || value === '') return fallback;
  if (value === 'fail' || value === 'replace' || value === 'rename') return value;
  throw badRequest(
    'drive',
    `Invalid value '${JSON.stringify(value)}' for @microsoft.graph.conflictBehavior.`,
  );
}

/** Inserts a new item under a parent (the store stamps id, eTag, cTag and timestamps). */
export function insertItem(
  d: DriveCtx,
  parentId: string,
  name: string,
  fields: Record<string, unknown>,
): Entity {
  const now = graphTimestamp(d.sandbox.now());
  const item = store(d).insert(d.ref, {
    id: driveItemId(),
    name,
    size: 0,
    ...fields,
    parentReference: { driveId: driveIdOf(d.owner.id), driveType: driveType(d.owner), id: parentId },
    createdBy: identity(d.actor),
    lastModifiedBy: identity(d.actor),
    fileSystemInfo: { createdDateTime: now, lastModifiedDateTime: now },
  });
  touchAncestors(d, parentId);
  return item;
}

export function updateItem(d: DriveCtx, id: string, patch: Record<string, unknown>): Entity {
  const now = graphTimestamp(d.sandbox.now());
  const current = getItem(d, id);
  const updated = store(d).update(d.ref, id, {
    ...patch,
    lastModifiedBy: identity(d.actor),
    fileSystemInfo: {
      ...(current?.fileSystemInfo ?? {}),
      lastModifiedDateTime: now,
    },
  });
  if (!updated) throw notFound('drive');
  return updated;
}

/**
 * A change inside a folder changes the folder's eTag too and shows its ancestors in delta
 * (driveitem-delta.md: "the parent folders of changed items are returned").
 */
export function touchAncestors(d: DriveCtx, folderId: string | undefined): void {
  let id = folderId;
  for (let guard = 0; id && guard < 1000; guard++) {
    const folder = getItem(d, id);
    if (!folder) return;
    store(d).update(d.ref, id, {});
    id = parentIdOf(folder);
  }
}

/** Deletes an item and everything under it (tombstones for delta; content files removed). */
export function deleteTree(d: DriveCtx, item: Entity): void {
  const state = filesState(d.sandbox);
  const all = isFolder(item) ? [...descendants(d, item.id), item] : [item];
  for (const it of all) {
    store(d).remove(d.ref, it.id);
    const key = contentKey(d.owner.id, it.id);
    discardFile(d.sandbox, state.content.get(key));
    state.content.delete(key);
    state.permissions.delete(key);
  }
  touchAncestors(d, parentIdOf(item));
}

export function contentKey(userId: string, itemId: string): string {
  return `${userId}/${itemId}`;
}

const MIME: Record<string, string> = {
  txt: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  json: 'application/json',
  html: 'text/html',
  pdf: 'application/pdf',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  zip: 'application/zip',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};

export function mimeTypeOf(name: string): string {
  const ext = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : '';
  return MIME[ext] ?? 'application/octet-stream';
}

/** The `file` facet: business drives report quickXorHash; personal ones sha1Hash too (driveitem hashes). */
export function fileFacet(
  owner: SandboxUser,
  name: string,
  hashes: { sha1: string; quickXor: string },
): Record<string, unknown> {
  return {
    mimeType: mimeTypeOf(name),
    hashes:
      owner.accountType === 'personal'
        ? { sha1Hash: hashes.sha1.toUpperCase(), quickXorHash: hashes.quickXor }
        : { quickXorHash: hashes.quickXor },
  };
}

/**
 * Stores `tempPath` as the content of a new or existing file (the file is moved into the content
 * map; the old content removed). Returns the item and whether it was created.
 */
export function commitContent(
  d: DriveCtx,
  target: { parentId: string; name: string; existing?: Entity; itemId?: string; description?: string },
  tempPath: string,
  size: number,
  hashes: { sha1: string; quickXor: string },
): { item: Entity; created: boolean } {
  const state = filesState(d.sandbox);
  const existing = target.itemId ? getItem(d, target.itemId) : target.existing;
  if (existing) {
    if (isFolder(existing)) throw nameConflict();
    const key = contentKey(d.owner.id, existing.id);
    discardFile(d.sandbox, state.content.get(key));
    state.content.set(key, tempPath);
    const item = updateItem(d, existing.id, {
      size,
      file: fileFacet(d.owner, String(existing.name), hashes),
      ...(target.description !== undefined ? { description: target.description } : {}),
    });
    touchAncestors(d, parentIdOf(item));
    return { item, created: false };
  }
  const item = insertItem(d, target.parentId, target.name, {
    size,
    file: fileFacet(d.owner, target.name, hashes),
    ...(target.description !== undefined ? { description: target.description } : {}),
  });
  state.content.set(contentKey(d.owner.id, item.id), tempPath);
  return { item, created: true };
}

/** Small content written synchronously to a new content file, with its hashes. */
function smallContent(
  d: DriveCtx,
  bytes: Buffer,
): { path: string; hashes: { sha1: string; quickXor: string } } {
  const path = newContentPath(filesState(d.sandbox));
  writeFileSync(path, bytes);
  const sha1 = createHash('sha1').update(bytes).digest('hex');
  const quickXor = new QuickXorHash().update(bytes).digest();
  return { path, hashes: { sha1, quickXor } };
}

/** Writes small content synchronously (seed data). */
export function writeSmallFile(d: DriveCtx, parentId: string, name: string, bytes: Buffer): Entity {
  const { path, hashes } = smallContent(d, bytes);
  return commitContent(d, { parentId, name }, path, bytes.length, hashes).item;
}

/** Replaces a file's content with small bytes written synchronously (a saved workbook). */
export function replaceSmallFile(d: DriveCtx, item: Entity, bytes: Buffer): Entity {
  const { path, hashes } = smallContent(d, bytes);
  const target = { parentId: parentIdOf(item) ?? '', name: String(item.name), itemId: item.id };
  return commitContent(d, target, path, bytes.length, hashes).item;
}

/** Duplicates an item (and a folder's subtree) under another parent: the copy job's work. */
export function copyTree(d: DriveCtx, source: Entity, parentId: string, name: string): Entity {
  const state = filesState(d.sandbox);
  const fields: Record<string, unknown> = {};
  for (const k of ['file', 'folder', 'size', 'description'])
    if (source[k] !== undefined) fields[k] = source[k];
  const copy = insertItem(d, parentId, name, fields);
  const from = state.content.get(contentKey(d.owner.id, source.id));
  if (from) {
    const to = newContentPath(state);
    copyFileSync(from, to);
    state.content.set(contentKey(d.owner.id, copy.id), to);
  }
  if (isFolder(source)) {
    for (const child of childrenOf(d, source.id)) copyTree(d, child, copy.id, String(child.name));
  }
  return copy;
}

export function usedBytes(d: DriveCtx): number {
  return store(d)
    .list(d.ref)
    .reduce((sum, i) => sum + (i.file ? Number(i.size ?? 0) : 0), 0);
}

// ---------------------------------------------------------------- rendering

function webUrlOf(d: DriveCtx, names: string[]): string {
  const below = names.map((n) => `/${encodeURIComponent(n)}`).join('');
  const library = (d.owner as DriveOwner).library;
  if (library) return `${library.webUrl}${below}`;
  const site = d.owner.userPrincipalName.replace(/[@.]/g, '_');
  return `https://contoso-my.sharepoint.test/personal/${site}/Documents${below}`;
}

/** A signed, short-lived pre-authenticated download URL on the preauth host (get-content.md). */
export function downloadUrl(d: DriveCtx, itemId: string): string {
  const state = filesState(d.sandbox);
  const payload = Buffer.from(
    JSON.stringify({ u: d.owner.id, i: itemId, e: d.sandbox.now() + 3600_000 }),
  ).toString('base64url');
  const sig = createHmac('sha256', state.secret).update(payload).digest('base64url');
  return `${d.sandbox.preauthBaseUrl}/preauth/download/${payload}.${sig}`;
}

export function verifyDownloadToken(
  sandbox: Sandbox,
  token: string,
): { userId: string; itemId: string } | undefined {
  const state = filesState(sandbox);
  const [payload, sig] = token.split('.');
  if (!payload || !sig) return undefined;
  const expected = createHmac('sha256', state.secret).update(payload).digest('base64url');
  if (expected !== sig) return undefined;
  try {
    const body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      u: string;
      i: string;
      e: number;
    };
    if (body.e < sandbox.now()) return undefined;
    return { userId: body.u, itemId: body.i };
  } catch {
    return undefined;
  }
}

/**
 * The driveItem as Graph returns it: `parentReference.path` (`/drive/root:/Folder`) and
 * `folder.childCount` computed now, no cTag on business folders (reference §8.3), a fresh
 * `@microsoft.graph.downloadUrl` on files.
 */
export function renderItem(d: DriveCtx, item: Entity): Record<string, unknown> {
  const names = namesOf(d, item);
  const out: Record<string, unknown> = { ...item };
  if (item.root === undefined) {
    const parentNames = names.slice(0, -1);
    out.parentReference = {
      ...(item.parentReference as Record<string, unknown>),
      // "Percent-encoded path that can be used to navigate to the item" (itemReference.md).
      path: `/drive/root:${parentNames.map((n) => `/${encodeURIComponent(n)}`).join('')}`,
    };
  }
  out.webUrl = webUrlOf(d, names);
  if (isFolder(item)) {
    out.folder = { childCount: childrenOf(d, item.id).length };
    out.size = descendants(d, item.id).reduce((s, i) => s + (i.file ? Number(i.size ?? 0) : 0), 0);
    if (d.owner.accountType !== 'personal') delete out.cTag;
  } else {
    out['@microsoft.graph.downloadUrl'] = downloadUrl(d, item.id);
  }
  return out;
}

/** Resolves an item of a path address or answers 404 itemNotFound. */
export function requireItem(item: Entity | undefined): Entity {
  if (!item) throw notFound('drive');
  return item;
}
