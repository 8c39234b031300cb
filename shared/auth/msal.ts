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

export async function createMsalApp(plugin: Msal.ICachePlugin): Promise<Msal.ConfidentialClientApplication> {
  const config = getConfig();
  const { ConfidentialClientApplication, LogLevel } = msal();
  const authorityUrl = new URL(config.MICROSOFT_AUTHORITY_HOST);
  const known = authorityUrl.host;
  return new ConfidentialClientApplication({
    auth: {
      clientId: config.MICROSOFT_CLIENT_ID,
      clientSecret: await getSecret('MICROSOFT_CLIENT_SECRET'),
      authority: `${config.MICROSOFT_AUTHORITY_HOST.replace(/\/$/, '')}/${config.MICROSOFT_TENANT_ID}`,
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
