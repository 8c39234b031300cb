/**
 * What every sandbox module is handed: the Sandbox (its state, clock and routers) and the request
 * context of a handler. Modules import these types from here, never from index.ts, which only
 * assembles the sandbox (startSandbox); this module imports no module that imports it back.
 */
import type { IncomingMessage } from 'node:http';
import type { FaultInjector } from './faults';
import type { SubscriptionSettings } from './graph/subscriptions/settings';
import type { RequestInfo, RouteHandler, Router } from './http';
import type { RequestLog } from './log';
import type { Persistence } from './persist';
import type { Directory } from './state';
import type { SigningKeys } from './tokens';

export interface SandboxOptions {
  /** 0 picks a free port (tests); `npm start` uses SANDBOX_PORT (default 7443). */
  port?: number;
  /**
   * Plain-HTTP port on loopback for the pages a person opens in a browser (authorize and consent,
   * sign-out, admin consent, the /_sandbox users page), so no certificate warning stands in the
   * way: browsers treat http://127.0.0.1 as a secure context. Token, Graph and Key Vault stay
   * HTTPS. Default: port + 1 (7444 with npm start), or a free port when port is 0.
   */
  browserPort?: number;
  /** Directory with sandbox-server.pem / .key (default .local/certs, made by scripts/certs.mjs). */
  certDir?: string;
  /** The app registration the product uses (client id, secret, redirect URIs). */
  app?: { clientId: string; clientSecret: string; redirectUris: string[] };
  /** Seed the demo tenant (users and their data). Default true. */
  seed?: boolean;
  /** How long a redeemed refresh token keeps working (seconds). Default 60. */
  refreshTokenGraceSeconds?: number;
  /** Access token lifetime in seconds (Entra: random 60–90 min). Default 3600. */
  accessTokenLifetimeSeconds?: number;
  /** Refresh token inactivity lifetime in seconds (Entra default 90 days). */
  refreshTokenLifetimeSeconds?: number;
  /** Throttling model: requests per mailbox per window, window length, concurrency. */
  throttle?: { requestsPerWindow?: number; windowSeconds?: number; concurrency?: number; code?: string };
  /** Print one line per request. */
  verbose?: boolean;
  /**
   * Sign-in without the consent page when login_hint names a sandbox user (tests). Default false;
   * toggled at runtime with POST /_sandbox/identity/auto-approve {enabled}.
   */
  autoApprove?: boolean;
  /**
   * Change notifications: lifetimes, retry delays (compress them for tests), timeouts
   * (sandbox/graph/subscriptions/model.ts; also PUT /_sandbox/subscriptions/settings).
   */
  subscriptions?: Partial<SubscriptionSettings>;
  /**
   * Keep the tenant's state in this directory across restarts (`npm start`: .local/sandbox; see
   * sandbox/persist.ts). Unset (tests): everything lives in memory.
   */
  stateDir?: string;
}

export interface Sandbox {
  readonly url: string;
  readonly port: number;
  /** http://127.0.0.1:BROWSER_PORT: where the browser-facing pages are served without TLS. */
  readonly browserUrl: string;
  /** e.g. https://127.0.0.1:PORT/v1.0 */
  readonly graphBaseUrl: string;
  /** e.g. https://127.0.0.1:PORT */
  readonly authorityHost: string;
  /** Hostname (no port) the Graph client must list in customHosts. */
  readonly graphHost: string;
  /** Base for pre-authenticated URLs (upload sessions, downloads): a host NOT in customHosts. */
  readonly preauthBaseUrl: string;
  readonly tenantId: string;
  /** Key Vault vaultUrl for SecretClient (the secrets API is served at the root: /secrets/...). */
  readonly keyVaultUrl: string;
  readonly options: Required<
    Pick<
      SandboxOptions,
      'refreshTokenGraceSeconds' | 'accessTokenLifetimeSeconds' | 'refreshTokenLifetimeSeconds'
    >
  > &
    SandboxOptions;
  readonly directory: Directory;
  readonly keys: SigningKeys;
  /** Identity platform, Key Vault and Graph routes. */
  readonly routes: Router<Ctx>;
  /** Control API routes, served under /_sandbox/. */
  readonly control: Router<Ctx>;
  readonly log: RequestLog;
  readonly faults: FaultInjector;
  /** Where the state is saved across restarts (undefined: in memory only). */
  readonly persistence?: Persistence;
  /** Per-feature state bag (each module keeps its own state here). */
  readonly modules: Record<string, unknown>;
  /** The sandbox clock in ms (real time plus an offset the control API can advance). */
  now(): number;
  advanceClock(ms: number): void;
  /** Runs `fn` after every advanceClock (work due at a sandbox time, e.g. deferred sends). */
  onClockAdvance(fn: () => void): void;
  stop(): Promise<void>;
}

export interface Ctx extends RequestInfo {
  sandbox: Sandbox;
  req: IncomingMessage;
  params: Record<string, string>;
  /** Reads the whole body (JSON endpoints). Large uploads read `req` as a stream instead. */
  body(): Promise<Buffer>;
  json<T = unknown>(): Promise<T>;
  /** Set by the Graph auth layer. */
  auth?: GraphAuth;
  /** Extra response headers every response of this request carries. */
  responseHeaders: Record<string, string>;
}

export interface GraphAuth {
  userId: string;
  tenantId: string;
  clientId: string;
  scopes: string[];
  tokenId: string;
  capabilities: string[];
  /** Application permissions of an app-only token (client credentials); absent for delegated. */
  roles?: string[];
}

export type Handler = RouteHandler<Ctx>;
