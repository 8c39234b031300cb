/** The identity module's own state, kept in `sandbox.modules.identity`. */
import type { Sandbox } from '../context';
import { randomUUID } from 'node:crypto';
import { persisted } from '../persist';

export interface AuthorizationCode {
  code: string;
  clientId: string;
  userId: string;
  redirectUri: string;
  /** Tenant segment used at authorize. */
  tenantSegment: string;
  /** The scope string requested at authorize. */
  scope: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  nonce?: string;
  capabilities: string[];
  issuedAt: number;
  redeemed: boolean;
}

/** An authorize request waiting for the user to press Accept or Cancel on the consent page. */
export interface PendingAuthorization {
  id: string;
  /** A user's sign-in + consent, or an admin granting consent for the tenant. */
  kind: 'user' | 'admin';
  createdAt: number;
  tenantSegment: string;
  clientId: string;
  redirectUri: string;
  responseMode: 'query' | 'fragment' | 'form_post';
  scope: string;
  state?: string;
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  capabilities: string[];
}

export interface IdentityState {
  autoApprove: boolean;
  codes: Map<string, AuthorizationCode>;
  pending: Map<string, PendingAuthorization>;
  /** Service principal object id per client id (the `oid` of app-only tokens). */
  servicePrincipals: Map<string, string>;
}

export function identityState(sandbox: Sandbox): IdentityState {
  let state = sandbox.modules.identity as IdentityState | undefined;
  if (!state) {
    state = {
      autoApprove: sandbox.options.autoApprove ?? false,
      codes: new Map(),
      pending: new Map(),
      servicePrincipals: new Map(),
    };
    sandbox.modules.identity = state;
    const s = state;
    const saved = persisted(sandbox, 'identity', () => ({
      codes: s.codes,
      pending: s.pending,
      servicePrincipals: s.servicePrincipals,
    }));
    if (saved) Object.assign(state, saved);
  }
  return state;
}

export function servicePrincipalId(state: IdentityState, clientId: string): string {
  let id = state.servicePrincipals.get(clientId);
  if (!id) {
    id = randomUUID();
    state.servicePrincipals.set(clientId, id);
  }
  return id;
}

/**
 * Client capabilities from the `claims` request parameter. MSAL sends
 * `{"access_token":{"xms_cc":{"values":["cp1"]}}}` when clientCapabilities is set (reference §7.8;
 * https://learn.microsoft.com/entra/identity-platform/claims-challenge).
 */
export function capabilitiesFromClaims(claims: string | null | undefined): string[] {
  if (!claims) return [];
  try {
    const parsed = JSON.parse(claims) as { access_token?: { xms_cc?: { values?: unknown } } };
    const values = parsed.access_token?.xms_cc?.values;
    return Array.isArray(values)
      ? values.filter((v): v is string => typeof v === 'string').map((v) => v.toLowerCase())
      : [];
  } catch {
    return [];
  }
}
