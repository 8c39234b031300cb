/**
 * MSAL ConfidentialClientApplication per operation (never one shared across users: reference
 * §7.9 / checklist item 1), with an in-memory cache plugin seeded from the user's decrypted
 * cache. The token vault persists what MSAL changed, encrypted, with ETag concurrency.
 * Client capability cp1 is declared, so Graph may send CAE claims challenges, which the
 * Graph client handles (reference §7.8).
 */
import type * as Msal from '@azure/msal-node';
import { getConfig } from '../config';
import { getSecret } from '../secrets';

export const msal = (): typeof Msal => require('@azure/msal-node') as typeof Msal;

/** Holds one user's serialized cache for one MSAL operation. */
export class UserCachePlugin implements Msal.ICachePlugin {
  changed = false;
  constructor(public serialized: string | undefined) {}
  async beforeCacheAccess(ctx: Msal.TokenCacheContext): Promise<void> {
    if (this.serialized) ctx.tokenCache.deserialize(this.serialized);
  }
  async afterCacheAccess(ctx: Msal.TokenCacheContext): Promise<void> {
    if (ctx.cacheHasChanged) {
      this.serialized = ctx.tokenCache.serialize();
      this.changed = true;
    }
  }
}

let metadata: { authority: string; json: Promise<string> } | undefined;

/**
 * The authority's OpenID metadata, fetched once per process and handed to every MSAL instance:
 * without it each per-operation instance would fetch it again (reference §7.9).
 */
function authorityMetadata(authority: string): Promise<string> {
  if (metadata?.authority !== authority) {
    const json = fetch(`${authority}/v2.0/.well-known/openid-configuration`).then(async (res) => {
      if (!res.ok) throw new Error(`authority metadata answered ${res.status}`);
      return await res.text();
    });
    json.catch(() => {
      if (metadata?.json === json) metadata = undefined; // retry on the next call
    });
    metadata = { authority, json };
  }
  return metadata.json;
}

/**
 * Where the authority's browser pages live: the origin of its published authorization_endpoint.
 * Microsoft serves them on the authority host itself; the sandbox on plain-http loopback so a
 * browser opens them without a certificate warning. Falls back to the authority host.
 */
export async function signInPagesOrigin(): Promise<string> {
  const config = getConfig();
  const host = config.MICROSOFT_AUTHORITY_HOST.replace(/\/$/, '');
  try {
    const json = JSON.parse(await authorityMetadata(`${host}/${config.MICROSOFT_TENANT_ID}`)) as {
      authorization_endpoint?: unknown;
    };
    return typeof json.authorization_endpoint === 'string'
      ? new URL(json.authorization_endpoint).origin
      : host;
  } catch {
    return host;
  }
}

export async function createMsalApp(plugin: Msal.ICachePlugin): Promise<Msal.ConfidentialClientApplication> {
  const config = getConfig();
  const { ConfidentialClientApplication, LogLevel } = msal();
  const authorityUrl = new URL(config.MICROSOFT_AUTHORITY_HOST);
  const known = authorityUrl.host;
  const authority = `${config.MICROSOFT_AUTHORITY_HOST.replace(/\/$/, '')}/${config.MICROSOFT_TENANT_ID}`;
  let discovered: string | undefined;
  try {
    discovered = await authorityMetadata(authority);
  } catch {
    discovered = undefined; // MSAL will fetch it itself and report the failure properly
  }
  return new ConfidentialClientApplication({
    auth: {
      clientId: config.MICROSOFT_CLIENT_ID,
      clientSecret: await getSecret('MICROSOFT_CLIENT_SECRET'),
      authority,
      ...(discovered ? { authorityMetadata: discovered } : {}),
      // Without knownAuthorities MSAL asks login.microsoftonline.com for instance discovery,
      // which a sandbox or sovereign-cloud authority must not need (toolchain.md).
      ...(known !== 'login.microsoftonline.com' ? { knownAuthorities: [known] } : {}),
      clientCapabilities: ['cp1'],
    },
    cache: { cachePlugin: plugin },
    system: {
      loggerOptions: { piiLoggingEnabled: false, logLevel: LogLevel.Error, loggerCallback: () => undefined },
      // MSAL refreshes ahead of expiry by itself (DEFAULT_TOKEN_RENEWAL_OFFSET_SEC = 300, §7.9).
    },
  });
}
