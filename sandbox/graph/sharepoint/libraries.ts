/**
 * Document libraries as drives: the drive model (files/) keys a drive's items by its owner, and a
 * library's owner is a stand-in user with `library` set (files/state.ts DriveOwner), its id
 * `splib-{listId}`. files/ finds it again through the resolver sharepoint/ registers.
 */
import type { Sandbox } from '../../context';
import type { SandboxUser } from '../../state';
import { graphState } from '../core';
import type { DriveOwner } from '../files/state';
import type { Entity } from '../store';
import { isLibrary, libraryOwnerId, listWebUrl, listsRef, SHAREPOINT_HOSTNAME, sitesRef } from './model';

/** The drive owner of a library: a stand-in user the drive model keys the library's items by. */
export function libraryOwner(sandbox: Sandbox, site: Entity, list: Entity): DriveOwner {
  const tenant = [...sandbox.directory.users.values()][0];
  return {
    ...(tenant as SandboxUser),
    id: libraryOwnerId(list.id),
    userPrincipalName: `${String(list.name).replace(/[^A-Za-z0-9]/g, '')}@${SHAREPOINT_HOSTNAME}`,
    mail: '',
    displayName: String(list.displayName),
    givenName: '',
    surname: '',
    jobTitle: null,
    accountType: 'work',
    consents: {},
    mailboxRights: {},
    requireMfa: false,
    library: {
      siteId: site.id,
      siteName: String(site.displayName),
      listId: list.id,
      name: String(list.displayName),
      webUrl: listWebUrl(list, site),
    },
  };
}

/** files/ asks who owns a `splib-` drive: the library of that list, on whichever site has it. */
export function resolveLibraryOwner(sandbox: Sandbox, ownerId: string): DriveOwner | undefined {
  if (!ownerId.startsWith('splib-')) return undefined;
  const listId = ownerId.slice('splib-'.length);
  const store = graphState(sandbox).store;
  for (const site of store.list(sitesRef(store))) {
    const list = store.get(listsRef(store, site.id), listId);
    if (list && isLibrary(list)) return libraryOwner(sandbox, site, list);
  }
  return undefined;
}
