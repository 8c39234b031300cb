/**
 * This app as the MCP authorization server (https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization):
 * the issuer is PUBLIC_BASE_URL, the protected resource is `/api/mcp` on it, and the two
 * documents MCP clients discover them by: RFC 9728 protected resource metadata (linked from the
 * 401's `WWW-Authenticate: Bearer resource_metadata=...`) and RFC 8414 authorization server
 * metadata at the origin's `/.well-known/oauth-authorization-server`.
 */
import { getConfig } from '../../config';

/** What a token may do: read-only tools, or every tool (the consent screen says which). */
export const MCP_SCOPES = ['mcp:read', 'mcp:write'] as const;
export type McpScope = (typeof MCP_SCOPES)[number];

export const ACCESS_TOKEN_SECONDS = 15 * 60;
export const CODE_SECONDS = 5 * 60;
export const REQUEST_SECONDS = 10 * 60;
/** A grant no client has refreshed for this long is gone (its refresh token with it). */
export const GRANT_IDLE_DAYS = 90;

export function issuer(): string {
  return getConfig().PUBLIC_BASE_URL.replace(/\/+$/, '');
}

/** The RFC 8707 resource indicator of /api/mcp: the audience of every access token issued here. */
export function mcpResource(): string {
  return `${issuer()}/api/mcp`;
}

export function resourceMetadataUrl(): string {
  return `${issuer()}/.well-known/oauth-protected-resource/api/mcp`;
}

export const endpoints = () => ({
  authorization: `${issuer()}/api/oauth/authorize`,
  token: `${issuer()}/api/oauth/token`,
  registration: `${issuer()}/api/oauth/register`,
  revocation: `${issuer()}/api/oauth/revoke`,
  consent: `${issuer()}/api/oauth/consent`,
});

/** RFC 9728 §2. */
export function protectedResourceMetadata(): Record<string, unknown> {
  return {
    resource: mcpResource(),
    authorization_servers: [issuer()],
    scopes_supported: [...MCP_SCOPES],
    bearer_methods_supported: ['header'],
    resource_name: 'Microsoft 365 (m365-integration)',
  };
}

/** RFC 8414 §2, with the MCP spec's client ID metadata document flag. */
export function authorizationServerMetadata(): Record<string, unknown> {
  const e = endpoints();
  return {
    issuer: issuer(),
    authorization_endpoint: e.authorization,
    token_endpoint: e.token,
    ...(getConfig().MCP_OAUTH_REGISTRATION ? { registration_endpoint: e.registration } : {}),
    revocation_endpoint: e.revocation,
    scopes_supported: [...MCP_SCOPES],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    // OAuth 2.1: S256 only; `plain` is refused.
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_post', 'client_secret_basic'],
    revocation_endpoint_auth_methods_supported: ['none', 'client_secret_post', 'client_secret_basic'],
    client_id_metadata_document_supported: true,
    authorization_response_iss_parameter_supported: true,
  };
}

/** The 401 challenge of /api/mcp (RFC 9728 §5.1, MCP authorization "Authorization Server Location"). */
export function bearerChallenge(error?: { error: string; description: string }): string {
  const parts = [
    'realm="m365-integration"',
    `resource_metadata="${resourceMetadataUrl()}"`,
    `scope="${MCP_SCOPES.join(' ')}"`,
  ];
  if (error) {
    parts.push(`error="${error.error}"`);
    parts.push(`error_description="${error.description.replace(/"/g, "'").replace(/[^\x20-\x7e]/g, '-')}"`);
  }
  return `Bearer ${parts.join(', ')}`;
}

/**
 * The scopes granted for a request: write implies read; none of ours asked means both. Scopes
 * that are not ours (`openid`, `offline_access`, which some clients always add) are ignored, as
 * RFC 6749 §3.3 allows; the token response says what was granted.
 */
export function grantedScope(requested: string | null | undefined): McpScope[] {
  const asked = (requested ?? '').split(' ').filter((s) => (MCP_SCOPES as readonly string[]).includes(s));
  if (asked.length === 0 || asked.includes('mcp:write')) return [...MCP_SCOPES];
  return ['mcp:read'];
}
