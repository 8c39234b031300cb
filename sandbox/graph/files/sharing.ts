/**
 * Sharing: createLink (201 for a new link, 200 with the existing link of that type and scope,
 * https://learn.microsoft.com/graph/api/driveitem-createlink), permissions list and delete
 * (https://learn.microsoft.com/graph/api/permission-delete: only non-inherited sharing
 * permissions can be removed), and the items shared with a user (sharedWithMe, `remoteItem`).
 */
import { randomBytes } from 'node:crypto';
import type { Sandbox } from '../../context';
import type { SandboxUser } from '../../state';
import { GraphHttpError, accessDenied, badRequest, notFound } from '../errors';
import {
  contentKey,
  driveCtx,
  driveIdOf,
  driveOwnerById,
  driveType,
  filesState,
  getItem,
  namesOf,
  parentIdOf,
  renderItem,
  store,
  updateItem,
  type DriveCtx,
  type Permission,
} from './state';
import type { Entity } from '../store';

function ownPermissions(d: DriveCtx, itemId: string): Permission[] {
  return filesState(d.sandbox).permissions.get(contentKey(d.owner.id, itemId)) ?? [];
}

function setPermissions(d: DriveCtx, itemId: string, list: Permission[]): void {
  const state = filesState(d.sandbox);
  if (list.length === 0) state.permissions.delete(contentKey(d.owner.id, itemId));
  else state.permissions.set(contentKey(d.owner.id, itemId), list);
  // The `shared` facet follows the item's own sharing (and the change shows in delta).
  const scopes = list.map((p) => p.link?.scope ?? 'users');
  const scope = scopes.includes('anonymous')
    ? 'anonymous'
    : scopes.includes('organization')
      ? 'organization'
      : 'users';
  updateItem(d, itemId, {
    shared:
      list.length > 0
        ? { scope, owner: { user: { id: d.owner.id, displayName: d.owner.displayName } } }
        : undefined,
  });
}

/** Owner, own and inherited permissions of an item, as Graph lists them. */
export function listPermissions(d: DriveCtx, item: Entity): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [
    {
      id: 'owner',
      roles: ['owner'],
      grantedToV2: { user: { id: d.owner.id, displayName: d.owner.displayName, email: d.owner.mail } },
      shareId: 'owner',
    },
  ];
  for (const p of ownPermissions(d, item.id)) out.push({ ...p });
  let pid = parentIdOf(item);
  for (let guard = 0; pid && guard < 1000; guard++) {
    const parent = getItem(d, pid);
    if (!parent) break;
    for (const p of ownPermissions(d, parent.id)) {
      out.push({
        ...p,
        inheritedFrom: {
          driveId: driveIdOf(d.owner.id),
          id: parent.id,
          path: `/drive/root:${namesOf(d, parent)
            .map((n) => `/${encodeURIComponent(n)}`)
            .join('')}`,
        },
      });
    }
    pid = parentIdOf(parent);
  }
  return out;
}

export interface LinkRequest {
  type?: string;
  scope?: string;
  expirationDateTime?: string;
  password?: string;
  retainInheritedPermissions?: boolean;
}

/** POST createLink: the existing link of that type and scope (200) or a new one (201). */
export function createLink(
  d: DriveCtx,
  item: Entity,
  body: LinkRequest,
  app: { id: string },
): { status: 200 | 201; permission: Permission } {
  const type = body.type;
  if (type !== 'view' && type !== 'edit' && type !== 'embed') {
    throw badRequest('drive', "The link type must be 'view', 'edit' or 'embed'.");
  }
  const personal = d.owner.accountType === 'personal';
  const scope = body.scope ?? (personal ? 'anonymous' : 'organization');
  if (scope !== 'anonymous' && scope !== 'organization' && scope !== 'users') {
    throw badRequest('drive', "The link scope must be 'anonymous', 'organization' or 'users'.");
  }
  // embed is personal only; organization is business only (reference §8.3).
  if (type === 'embed' && !personal)
    throw badRequest('drive', 'Embed links are only supported on OneDrive personal.');
  if (scope === 'organization' && personal)
    throw badRequest('drive', 'Organization links are not supported on OneDrive personal.');
  if (scope === 'anonymous' && !filesState(d.sandbox).settings.anonymousLinks) {
    throw accessDenied('drive', 'Anonymous sharing links are disabled by the administrator.');
  }
  let expiration: string | undefined;
  if (body.expirationDateTime !== undefined) {
    const ms = Date.parse(body.expirationDateTime);
    if (Number.isNaN(ms)) throw badRequest('drive', 'expirationDateTime is not a valid date.');
    if (ms <= d.sandbox.now()) throw badRequest('drive', 'expirationDateTime must be in the future.');
    expiration = new Date(ms).toISOString();
  }
  const list = ownPermissions(d, item.id);
  const existing = list.find((p) => p.link?.type === type && p.link.scope === scope);
  if (existing) return { status: 200, permission: existing };
  const shareId = `u!${randomBytes(18).toString('base64url')}`;
  const site = d.owner.userPrincipalName.replace(/[@.]/g, '_');
  const permission: Permission = {
    id: randomBytes(12).toString('hex'),
    roles: [type === 'edit' ? 'write' : 'read'],
    link: {
      type,
      scope,
      webUrl: personal
        ? `https://1drv.ms.test/${type === 'edit' ? 'w' : 'v'}/s!${randomBytes(12).toString('base64url')}`
        : `https://contoso-my.sharepoint.test/:${type === 'edit' ? 'w' : 'v'}:/g/personal/${site}/${randomBytes(16).toString('base64url')}`,
      preventsDownload: false,
      application: { id: app.id, displayName: 'Praxos' },
    },
    hasPassword: Boolean(body.password),
    ...(expiration ? { expirationDateTime: expiration } : {}),
    shareId,
  };
  setPermissions(d, item.id, [...list, permission]);
  return { status: 201, permission };
}

export function deletePermission(d: DriveCtx, item: Entity, permissionId: string): void {
  const list = ownPermissions(d, item.id);
  if (!list.some((p) => p.id === permissionId)) {
    if (permissionId === 'owner') throw accessDenied('drive', 'The owner permission cannot be removed.');
    const inherited = listPermissions(d, item).some((p) => p.id === permissionId);
    if (inherited) {
      throw new GraphHttpError(
        403,
        'accessDenied',
        'Only sharing permissions that are not inherited can be deleted.',
      );
    }
    throw notFound('drive', 'The permission was not found.');
  }
  setPermissions(
    d,
    item.id,
    list.filter((p) => p.id !== permissionId),
  );
}

/** Grants a user access to an item (seed data for sharedWithMe; the invite API is not emulated). */
export function grantToUser(d: DriveCtx, item: Entity, user: SandboxUser, role: 'read' | 'write'): void {
  const list = ownPermissions(d, item.id);
  setPermissions(d, item.id, [
    ...list,
    {
      id: randomBytes(12).toString('hex'),
      roles: [role],
      grantedToV2: { user: { id: user.id, displayName: user.displayName, email: user.mail } },
      shareId: `s!${randomBytes(12).toString('base64url')}`,
    },
  ]);
}

/** True when the user holds a grant on the item or one of its ancestors. */
export function sharedWith(d: DriveCtx, item: Entity, userId: string): boolean {
  return sharedRole(d, item, userId) !== undefined;
}

/** The strongest role the user's grants on the item or its ancestors give, if any. */
export function sharedRole(d: DriveCtx, item: Entity, userId: string): 'read' | 'write' | undefined {
  let role: 'read' | 'write' | undefined;
  let cur: Entity | undefined = item;
  for (let guard = 0; cur && guard < 1000; guard++) {
    for (const p of ownPermissions(d, cur.id)) {
      if (p.grantedToV2?.user.id !== userId) continue;
      if (p.roles.includes('write')) return 'write';
      role = 'read';
    }
    const pid = parentIdOf(cur);
    cur = pid ? getItem(d, pid) : undefined;
  }
  return role;
}

/** The `remoteItem`-wrapped form of another drive's item (sharedWithMe, drive search). */
export function remoteItem(d: DriveCtx, item: Entity): Record<string, unknown> {
  const full = renderItem(d, item);
  const remote: Record<string, unknown> = {
    id: item.id,
    name: item.name,
    size: full.size,
    webUrl: full.webUrl,
    createdDateTime: item.createdDateTime,
    lastModifiedDateTime: item.lastModifiedDateTime,
    parentReference: { driveId: driveIdOf(d.owner.id), driveType: driveType(d.owner), id: parentIdOf(item) },
    shared: {
      owner: { user: { id: d.owner.id, displayName: d.owner.displayName, email: d.owner.mail } },
      sharedDateTime: item.lastModifiedDateTime,
    },
    ...(full.file ? { file: full.file } : {}),
    ...(full.folder ? { folder: full.folder } : {}),
  };
  return {
    id: item.id,
    name: item.name,
    size: full.size,
    webUrl: full.webUrl,
    createdDateTime: item.createdDateTime,
    lastModifiedDateTime: item.lastModifiedDateTime,
    ...(full.file ? { file: full.file } : {}),
    ...(full.folder ? { folder: full.folder } : {}),
    remoteItem: remote,
  };
}

/** Items other users shared with `user` (directly granted, not via a link). */
export function sharedWithUser(drives: DriveCtx[], user: SandboxUser): Array<{ d: DriveCtx; item: Entity }> {
  const out: Array<{ d: DriveCtx; item: Entity }> = [];
  for (const d of drives) {
    if (d.owner.id === user.id) continue;
    for (const item of store(d).list(d.ref)) {
      if (ownPermissions(d, item.id).some((p) => p.grantedToV2?.user.id === user.id)) out.push({ d, item });
    }
  }
  return out;
}

/**
 * A sharing link or share id (shares-get.md): `u!` + the link URL in unpadded base64url, or the
 * permission's shareId. Finds the item in whichever drive holds it. Links scoped to the
 * organization or anyone open to every user here; a `users` link only to those it was granted to
 * (the owner). An expired link is refused.
 */
export function resolveShare(
  sandbox: Sandbox,
  shareIdOrUrl: string,
  caller: SandboxUser | undefined,
): { d: DriveCtx; item: Entity; permission: Permission } {
  let url: string | undefined;
  if (shareIdOrUrl.startsWith('u!')) {
    url = Buffer.from(shareIdOrUrl.slice(2), 'base64url').toString('utf8');
  }
  for (const [key, list] of filesState(sandbox).permissions) {
    const permission = list.find(
      (p) => p.shareId === shareIdOrUrl || (url !== undefined && p.link?.webUrl === url),
    );
    if (!permission) continue;
    const [ownerId = '', itemId = ''] = key.split('/');
    const owner = driveOwnerById(sandbox, ownerId);
    if (!owner) break;
    const d = driveCtx(sandbox, owner, caller);
    const item = getItem(d, itemId);
    if (!item) break;
    const expires = permission.expirationDateTime ? Date.parse(permission.expirationDateTime) : undefined;
    if (expires !== undefined && expires <= sandbox.now())
      throw accessDenied('drive', 'The sharing link has expired.');
    const scope = permission.link?.scope ?? 'users';
    const mine = caller?.id === owner.id || permission.grantedToV2?.user.id === caller?.id;
    if (scope === 'users' && !mine) throw accessDenied('drive');
    if (scope === 'organization' && caller?.accountType === 'personal') throw accessDenied('drive');
    return { d, item, permission };
  }
  throw notFound('drive', 'The sharing link or share id does not resolve to an item.');
}

/** `Prefer: redeemSharingLink`: the caller keeps access to the item (it is shared with them). */
export function redeemShare(d: DriveCtx, item: Entity, permission: Permission, caller: SandboxUser): void {
  if (caller.id === d.owner.id || sharedWith(d, item, caller.id)) return;
  grantToUser(d, item, caller, permission.roles.includes('write') ? 'write' : 'read');
}
