/**
 * Our own shapes for OneDrive items and permissions (never raw Graph), parsed from Graph's
 * driveItem (https://learn.microsoft.com/graph/api/resources/driveitem) and permission resources,
 * plus the path helpers every files action uses.
 */
import { untrusted } from '../../actions/output';
import { z } from 'zod';
import { seg } from '../../graph/client';
import { Problem } from '../../http/problem';
import { decodeOrRaw } from '../../http/url';

const Identity = z
  .object({ user: z.object({ id: z.string().optional(), displayName: z.string().optional() }).partial() })
  .partial();

const Facets = {
  id: z.string(),
  name: z.string().optional(),
  size: z.number().optional(),
  webUrl: z.string().optional(),
  eTag: z.string().optional(),
  cTag: z.string().optional(),
  createdDateTime: z.string().optional(),
  lastModifiedDateTime: z.string().optional(),
  createdBy: Identity.optional(),
  lastModifiedBy: Identity.optional(),
  parentReference: z.object({ driveId: z.string(), id: z.string(), path: z.string() }).partial().optional(),
  file: z
    .object({
      mimeType: z.string(),
      hashes: z.object({ quickXorHash: z.string(), sha1Hash: z.string() }).partial(),
    })
    .partial()
    .optional(),
  folder: z.object({ childCount: z.number() }).partial().optional(),
  shared: z.object({ scope: z.string() }).partial().optional(),
};

const GraphItem = z
  .object({
    ...Facets,
    root: z.object({}).passthrough().optional(),
    remoteItem: z.object(Facets).passthrough().optional(),
  })
  .passthrough();

export const FileItemSchema = z.object({
  id: z.string(),
  name: untrusted(z.string(), 'file'),
  kind: z.enum(['file', 'folder']),
  size: z.number().nullable(),
  mimeType: z.string().nullable(),
  childCount: z.number().nullable(),
  path: z
    .string()
    .nullable()
    .describe('Path from the drive root, e.g. /Projects/plan.docx (null for items in other drives).'),
  parentId: z.string().nullable(),
  driveId: z.string().nullable(),
  webUrl: z.string().nullable(),
  createdAt: z.string().nullable(),
  modifiedAt: z.string().nullable(),
  modifiedBy: untrusted(z.string().nullable(), 'file'),
  eTag: z.string().nullable(),
  quickXorHash: z.string().nullable(),
  shared: z.boolean(),
  remote: z
    .boolean()
    .describe('True for an item in another user’s drive (shared with the user); use driveId with the id.'),
});
export type FileItem = z.infer<typeof FileItemSchema>;

function pathOf(parentPath: string | undefined, name: string): string | null {
  if (parentPath === undefined) return null;
  // "/drive/root:" or "/drives/{id}/root:/Folder" → "/Folder"
  const idx = parentPath.indexOf('root:');
  if (idx === -1) return null;
  // Graph documents parentReference.path as percent-encoded; a name with a bare % must not break it.
  const parent = decodeOrRaw(parentPath.slice(idx + 'root:'.length));
  return `${parent}/${name}`.replace(/^\/+/, '/');
}

/** Maps a Graph driveItem (own, or a sharedWithMe/search `remoteItem` wrapper) to a FileItem. */
export function toFileItem(raw: unknown): FileItem {
  const g = GraphItem.parse(raw);
  const remote = g.remoteItem;
  const src = remote ?? g;
  const name = g.name ?? src.name ?? '';
  const isRoot = g.root !== undefined;
  return {
    id: src.id,
    name: isRoot ? '' : name,
    kind: (g.folder ?? src.folder) ? 'folder' : 'file',
    size: src.size ?? g.size ?? null,
    mimeType: (src.file ?? g.file)?.mimeType ?? null,
    childCount: (src.folder ?? g.folder)?.childCount ?? null,
    path: isRoot ? '/' : remote ? null : pathOf(g.parentReference?.path, name),
    parentId: src.parentReference?.id ?? null,
    driveId: src.parentReference?.driveId ?? null,
    webUrl: src.webUrl ?? g.webUrl ?? null,
    createdAt: src.createdDateTime ?? g.createdDateTime ?? null,
    modifiedAt: src.lastModifiedDateTime ?? g.lastModifiedDateTime ?? null,
    modifiedBy: src.lastModifiedBy?.user?.displayName ?? null,
    eTag: g.eTag ?? null,
    quickXorHash: (src.file ?? g.file)?.hashes?.quickXorHash ?? null,
    shared: Boolean(src.shared ?? g.shared) || Boolean(remote),
    remote: Boolean(remote),
  };
}

const GraphPermission = z
  .object({
    id: z.string(),
    roles: z.array(z.string()).optional(),
    link: z.object({ type: z.string(), scope: z.string(), webUrl: z.string() }).partial().optional(),
    grantedToV2: z
      .object({ user: z.object({ id: z.string(), displayName: z.string(), email: z.string() }).partial() })
      .partial()
      .optional(),
    expirationDateTime: z.string().optional(),
    hasPassword: z.boolean().optional(),
    inheritedFrom: z.object({ id: z.string() }).partial().optional(),
  })
  .passthrough();

export const PermissionSchema = z.object({
  id: z.string(),
  roles: z.array(z.string()),
  kind: z.enum(['link', 'user', 'owner']),
  linkType: z.string().nullable(),
  linkScope: z.string().nullable(),
  url: z.string().nullable(),
  grantedTo: z.string().nullable(),
  expiresAt: z.string().nullable(),
  inherited: z.boolean(),
});
export type FilePermission = z.infer<typeof PermissionSchema>;

export function toPermission(raw: unknown): FilePermission {
  const p = GraphPermission.parse(raw);
  const roles = p.roles ?? [];
  return {
    id: p.id,
    roles,
    kind: p.link ? 'link' : roles.includes('owner') ? 'owner' : 'user',
    linkType: p.link?.type ?? null,
    linkScope: p.link?.scope ?? null,
    url: p.link?.webUrl ?? null,
    grantedTo: p.grantedToV2?.user?.email ?? p.grantedToV2?.user?.displayName ?? null,
    expiresAt: p.expirationDateTime ?? null,
    inherited: p.inheritedFrom !== undefined,
  };
}

/** Splits and checks a drive path ("/Projects/plan.docx"): no empty, "." or ".." segments. */
export function pathSegments(path: string, field = 'path'): string[] {
  const segments = path.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) {
    throw new Problem('invalid_input', `${field} may not contain "." or ".." segments.`, {
      errors: [{ field, message: 'contains "." or ".." segments' }],
    });
  }
  return segments;
}

/** Which drive: the user's OneDrive (neither), a drive by id, or a site's default library. */
export interface DriveAddress {
  driveId?: string | undefined;
  siteId?: string | undefined;
}

/** The Graph address of a drive: `/me/drive`, `/drives/{id}` or `/sites/{id}/drive` (drive-get.md). */
export function driveBase(drive: DriveAddress): string {
  if (drive.driveId) return `/drives/${seg(drive.driveId)}`;
  if (drive.siteId) return `/sites/${seg(drive.siteId)}/drive`;
  return '/me/drive';
}

/** Only the drive fields of an input (so a later spread cannot carry other fields along). */
export function driveOf(input: DriveAddress): DriveAddress {
  return {
    ...(input.driveId ? { driveId: input.driveId } : {}),
    ...(input.siteId ? { siteId: input.siteId } : {}),
  };
}

/**
 * The Graph address of an item: by id (`{drive}/items/{id}`) or by path
 * (`{drive}/root:/a/b.txt:`), every segment encoded, in the drive `input` names.
 */
export function itemUrl(input: { itemId?: string; path?: string } & DriveAddress, field = 'path'): string {
  const drive = driveBase(input);
  if (input.itemId) return `${drive}/items/${seg(input.itemId)}`;
  const segments = pathSegments(input.path ?? '/', field);
  if (segments.length === 0) return `${drive}/root`;
  return `${drive}/root:/${segments.map(seg).join('/')}:`;
}

/** At most one of driveId / siteId (refine for input schemas). */
export const oneDrive = {
  check: (v: DriveAddress) => !(v.driveId !== undefined && v.siteId !== undefined),
  message: { message: 'Give driveId or siteId, not both.', path: ['siteId'] },
};

/** Exactly one of itemId / path (refine for input schemas). */
export const oneAddress = {
  check: (v: { itemId?: string | undefined; path?: string | undefined }) =>
    (v.itemId === undefined) !== (v.path === undefined),
  message: { message: 'Give exactly one of itemId or path.', path: ['itemId'] },
};
