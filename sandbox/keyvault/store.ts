/** Key Vault secret storage: versions per name, soft-deleted secrets kept until purged. */
import type { Sandbox } from '../context';
import { randomBytes } from 'node:crypto';
import { persisted } from '../persist';

export interface SecretAttributes {
  enabled: boolean;
  nbf?: number;
  exp?: number;
  created: number;
  updated: number;
  recoveryLevel: string;
  recoverableDays: number;
}

export interface SecretVersion {
  /** The name as first written (lookups are case-insensitive). */
  name: string;
  version: string;
  value: string;
  contentType?: string;
  tags?: Record<string, string>;
  attributes: SecretAttributes;
}

export interface DeletedSecret {
  versions: SecretVersion[];
  deletedDate: number;
  scheduledPurgeDate: number;
}

export interface VaultState {
  secrets: Map<string, SecretVersion[]>;
  deleted: Map<string, DeletedSecret>;
}

/** [EMU] Secret names: 1–127 characters, letters, digits and dashes (https://learn.microsoft.com/azure/key-vault/general/about-keys-secrets-certificates#object-identifiers). */
export const SECRET_NAME = /^[0-9a-zA-Z-]{1,127}$/;
const RECOVERABLE_DAYS = 90;

export function vaultState(sandbox: Sandbox): VaultState {
  let state = sandbox.modules.keyvault as VaultState | undefined;
  if (!state) {
    state = { secrets: new Map(), deleted: new Map() };
    sandbox.modules.keyvault = state;
    const s = state;
    const saved = persisted(sandbox, 'keyvault', () => ({ secrets: s.secrets, deleted: s.deleted }));
    if (saved) Object.assign(state, saved);
  }
  return state;
}

/** Names are case-insensitive in Key Vault; we key by lower case and keep the first spelling. */
export function key(name: string): string {
  return name.toLowerCase();
}

export function setSecret(
  sandbox: Sandbox,
  name: string,
  input: {
    value: string;
    contentType?: string;
    tags?: Record<string, string>;
    attributes?: { enabled?: boolean; nbf?: number; exp?: number };
  },
): SecretVersion {
  const state = vaultState(sandbox);
  const nowSec = Math.floor(sandbox.now() / 1000);
  const existing = state.secrets.get(key(name));
  const version: SecretVersion = {
    name: existing?.[0]?.name ?? name,
    version: randomBytes(16).toString('hex'),
    value: input.value,
    contentType: input.contentType,
    tags: input.tags,
    attributes: {
      enabled: input.attributes?.enabled ?? true,
      nbf: input.attributes?.nbf,
      exp: input.attributes?.exp,
      created: nowSec,
      updated: nowSec,
      recoveryLevel: 'Recoverable+Purgeable',
      recoverableDays: RECOVERABLE_DAYS,
    },
  };
  const versions = existing ?? [];
  versions.push(version);
  state.secrets.set(key(name), versions);
  return version;
}

export function deleteSecret(sandbox: Sandbox, name: string): DeletedSecret | undefined {
  const state = vaultState(sandbox);
  const versions = state.secrets.get(key(name));
  if (!versions) return undefined;
  state.secrets.delete(key(name));
  const now = sandbox.now();
  const deleted: DeletedSecret = {
    versions,
    deletedDate: Math.floor(now / 1000),
    scheduledPurgeDate: Math.floor(now / 1000) + RECOVERABLE_DAYS * 86400,
  };
  state.deleted.set(key(name), deleted);
  return deleted;
}
