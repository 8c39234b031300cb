/**
 * The Microsoft identity platform (reference §7): discovery, JWKS, authorize (sign-in and consent
 * page), token (authorization_code with PKCE, refresh_token). Implemented by the Sandbox issue.
 */
import type { Sandbox } from '../index';

export function installIdentity(_sandbox: Sandbox): void {
  // routes registered on sandbox.routes
}
