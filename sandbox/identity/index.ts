/**
 * The Microsoft identity platform (reference §7): discovery, JWKS, authorize (sign-in and consent
 * page), admin consent, token (authorization_code with PKCE, refresh_token, client_credentials),
 * plus control routes for tests.
 */
import type { Sandbox } from '../context';
import { installAuthorize } from './authorize';
import { installIdentityControl } from './control';
import { installDiscovery } from './discovery';
import { identityState } from './state';
import { installToken } from './token';

export function installIdentity(sandbox: Sandbox): void {
  identityState(sandbox);
  installDiscovery(sandbox);
  installAuthorize(sandbox);
  installToken(sandbox);
  installIdentityControl(sandbox);
}
