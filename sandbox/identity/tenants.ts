/**
 * The `{tenant}` path segment (reference §7.1): common | organizations | consumers | the tenant
 * id | a verified domain. Decides which accounts may sign in on that authority.
 * [EMU] https://learn.microsoft.com/entra/identity-platform/v2-protocols#endpoints and
 * https://learn.microsoft.com/entra/identity-platform/msal-client-application-configuration#authority
 */
import type { Sandbox } from '../context';
import { CONSUMERS_TENANT_ID, type SandboxUser } from '../state';

export type TenantKind = 'common' | 'organizations' | 'consumers' | 'tenant';

export interface ResolvedTenant {
  /** The segment as it appeared in the URL. */
  segment: string;
  kind: TenantKind;
  /** Tenant id for `tenant`; the consumers tenant id for `consumers`; undefined for multi-tenant. */
  tenantId?: string;
}

/** Domains the sandbox tenant owns: its users' UPN suffixes plus an onmicrosoft.com name. */
export function tenantDomains(sandbox: Sandbox): Set<string> {
  const domains = new Set<string>(['sandbox.onmicrosoft.com']);
  for (const user of sandbox.directory.users.values()) {
    if (user.tenantId !== sandbox.tenantId) continue;
    const domain = user.userPrincipalName.split('@')[1];
    if (domain) domains.add(domain.toLowerCase());
  }
  return domains;
}

export function resolveTenant(sandbox: Sandbox, segment: string): ResolvedTenant | undefined {
  const lower = segment.toLowerCase();
  if (lower === 'common' || lower === 'organizations') return { segment, kind: lower };
  if (lower === 'consumers' || lower === CONSUMERS_TENANT_ID)
    return { segment, kind: 'consumers', tenantId: CONSUMERS_TENANT_ID };
  if (lower === sandbox.tenantId || tenantDomains(sandbox).has(lower))
    return { segment, kind: 'tenant', tenantId: sandbox.tenantId };
  return undefined;
}

/**
 * Whether the account may sign in on this authority: personal accounts only on common and
 * consumers, work accounts only on common, organizations and their own tenant.
 */
export function canSignIn(tenant: ResolvedTenant, user: SandboxUser): boolean {
  const personal = user.accountType === 'personal';
  switch (tenant.kind) {
    case 'common':
      return true;
    case 'organizations':
      return !personal;
    case 'consumers':
      return personal;
    case 'tenant':
      return !personal && user.tenantId === tenant.tenantId;
  }
}

/** Why an account can't sign in here, as Entra words it. */
export function signInRefusal(tenant: ResolvedTenant, user: SandboxUser): { code: number; message: string } {
  if (user.accountType === 'personal') {
    return {
      code: 500200,
      message: `User account '${user.userPrincipalName}' is a personal Microsoft account. Personal Microsoft accounts are not supported for this application unless explicitly invited to an organization. Try signing out and signing back in with an organizational account.`,
    };
  }
  if (tenant.kind === 'consumers') {
    return {
      code: 9001023,
      message: `The grant type isn't supported over the /common or /consumers endpoints for organizational account '${user.userPrincipalName}'. Please use the /organizations or tenant-specific endpoint.`,
    };
  }
  return {
    code: 50020,
    message: `User account '${user.userPrincipalName}' from identity provider 'https://sts.windows.net/${user.tenantId}/' does not exist in tenant '${tenant.segment}' and cannot access the application.`,
  };
}

export function unknownTenantMessage(segment: string): string {
  return `Tenant '${segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`;
}
