/**
 * The sandbox tenant's directory: users, app registrations and the tokens handed out. Service
 * data (mail, events, files, ...) lives in the change-tracking store (sandbox/graph/store.ts).
 */
import { randomUUID } from 'node:crypto';

export const SANDBOX_TENANT_ID = '6f0c2a8e-3b1d-4c5e-9f7a-2d8b1e4c6a90';
/** The tenant id personal Microsoft accounts carry (documented constant). */
export const CONSUMERS_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';

export interface SandboxUser {
  id: string;
  tenantId: string;
  userPrincipalName: string;
  mail: string;
  displayName: string;
  givenName: string;
  surname: string;
  jobTitle: string | null;
  accountType: 'work' | 'personal';
  /** IANA zone of the mailbox (mailboxSettings.timeZone is given in Windows names by Graph). */
  timeZone: string;
  workingHours: { daysOfWeek: string[]; startTime: string; endTime: string };
  /** Scopes the user has already consented to, per client id. */
  consents: Record<string, string[]>;
  /** Mailboxes (user ids) this user may act on, with the rights held. */
  mailboxRights: Record<string, { fullAccess: boolean; sendAs: boolean; sendOnBehalf: boolean }>;
  /** Conditional Access simulation: the next token request needs MFA (AADSTS50076). */
  requireMfa: boolean;
}

export interface AppRegistration {
  clientId: string;
  displayName: string;
  secrets: Array<{ value: string; expiresAt: number }>;
  redirectUris: string[];
  /** Scopes only an admin can grant (e.g. ChannelMessage.Read.All). */
  adminConsentedScopes: string[];
  /** Application permissions (app roles) an admin granted, put in app-only tokens as `roles`. */
  applicationPermissions?: string[];
}

export interface RefreshTokenRecord {
  token: string;
  userId: string;
  clientId: string;
  scopes: string[];
  issuedAt: number;
  /** Inactivity or absolute expiry (ms epoch, sandbox clock). */
  expiresAt: number;
  /** Set when the token was redeemed: it keeps working until usedAt + grace. */
  usedAt?: number;
  revoked?: boolean;
  capabilities: string[];
}

export class Directory {
  readonly users = new Map<string, SandboxUser>();
  readonly apps = new Map<string, AppRegistration>();
  readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  /** Access tokens issued before this time (ms) are revoked, per user (CAE / session revocation). */
  readonly revokedBefore = new Map<string, number>();

  addUser(input: Partial<SandboxUser> & { userPrincipalName: string; displayName: string }): SandboxUser {
    const [local] = input.userPrincipalName.split('@');
    const [given, ...rest] = input.displayName.split(' ');
    const user: SandboxUser = {
      id: input.id ?? randomUUID(),
      tenantId:
        input.tenantId ?? (input.accountType === 'personal' ? CONSUMERS_TENANT_ID : SANDBOX_TENANT_ID),
      userPrincipalName: input.userPrincipalName,
      mail: input.mail ?? input.userPrincipalName,
      displayName: input.displayName,
      givenName: input.givenName ?? given ?? local ?? '',
      surname: input.surname ?? rest.join(' '),
      jobTitle: input.jobTitle ?? null,
      accountType: input.accountType ?? 'work',
      timeZone: input.timeZone ?? 'Europe/Berlin',
      workingHours: input.workingHours ?? {
        daysOfWeek: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'],
        startTime: '09:00:00.0000000',
        endTime: '17:00:00.0000000',
      },
      consents: input.consents ?? {},
      mailboxRights: input.mailboxRights ?? {},
      requireMfa: input.requireMfa ?? false,
    };
    this.users.set(user.id, user);
    return user;
  }

  /** Finds a user by id, UPN or mail (case-insensitive), as `/users/{id | userPrincipalName}` does. */
  findUser(idOrUpn: string): SandboxUser | undefined {
    const direct = this.users.get(idOrUpn);
    if (direct) return direct;
    const needle = idOrUpn.toLowerCase();
    for (const user of this.users.values()) {
      if (user.userPrincipalName.toLowerCase() === needle || user.mail.toLowerCase() === needle) return user;
    }
    return undefined;
  }

  addApp(
    app: Partial<AppRegistration> & {
      clientId: string;
      secrets: AppRegistration['secrets'];
      redirectUris: string[];
    },
  ): AppRegistration {
    const registration: AppRegistration = {
      displayName: app.displayName ?? 'Praxos',
      adminConsentedScopes: app.adminConsentedScopes ?? [],
      ...app,
    };
    this.apps.set(registration.clientId, registration);
    return registration;
  }
}
