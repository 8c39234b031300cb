/**
 * OIDC discovery, instance discovery and the JWKS (reference §7.1, §7.9).
 * [EMU] Metadata fields as https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration
 * returns them (https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc#find-your-apps-openid-configuration-document-uri);
 * MSAL reads authorization_endpoint, token_endpoint, end_session_endpoint and issuer.
 */
import type { Ctx, Sandbox } from '../context';
import { json, type SandboxResponse } from '../http';
import { aadError } from './errors';
import { resolveTenant, unknownTenantMessage } from './tenants';

export function openIdConfiguration(sandbox: Sandbox, segment: string): Record<string, unknown> {
  const host = sandbox.authorityHost;
  const tenant = resolveTenant(sandbox, segment);
  // Multi-tenant authorities publish a templated issuer; MSAL substitutes the token's tid.
  const issuerTenant = tenant?.tenantId ?? '{tenantid}';
  return {
    token_endpoint: `${host}/${segment}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${host}/${segment}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${host}/${issuerTenant}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${sandbox.url}/oidc/userinfo`,
    // The pages a browser opens are served over plain http on loopback (no certificate wall;
    // sandbox/index.ts `browserPort`): MSAL builds the authorization URL from this endpoint.
    authorization_endpoint: `${sandbox.browserUrl}/${segment}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${host}/${segment}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${sandbox.browserUrl}/${segment}/oauth2/v2.0/logout`,
    claims_supported: [
      'sub',
      'iss',
      'cloud_instance_name',
      'cloud_instance_host_name',
      'cloud_graph_host_name',
      'msgraph_host',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'acr',
      'nonce',
      'preferred_username',
      'name',
      'tid',
      'ver',
      'at_hash',
      'c_hash',
      'email',
    ],
    kerberos_endpoint: `${host}/${segment}/kerberos`,
    tenant_region_scope: 'EU',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  };
}

export function installDiscovery(sandbox: Sandbox): void {
  const r = sandbox.routes;
  const authorityHostName = new URL(sandbox.authorityHost).host;

  r.on('GET', '/:tenant/v2.0/.well-known/openid-configuration', (ctx: Ctx): SandboxResponse => {
    const segment = ctx.params.tenant ?? '';
    if (!resolveTenant(sandbox, segment)) {
      return aadError(ctx, { error: 'invalid_tenant', code: 90002, message: unknownTenantMessage(segment) });
    }
    return json(200, openIdConfiguration(sandbox, segment), {
      'content-type': 'application/json; charset=utf-8',
    });
  });

  // [EMU] Instance discovery (what MSAL calls unless knownAuthorities or
  // disableInstanceDiscovery is set): https://login.microsoftonline.com/common/discovery/instance
  // ?api-version=1.1&authorization_endpoint=... ; shape per msal-common CloudInstanceDiscoveryResponse.
  r.on('GET', '/common/discovery/instance', (ctx: Ctx): SandboxResponse => {
    let segment = 'common';
    const endpoint = ctx.query.get('authorization_endpoint');
    if (endpoint) {
      try {
        segment = new URL(endpoint).pathname.split('/').filter(Boolean)[0] ?? 'common';
      } catch {
        segment = 'common';
      }
    }
    return json(
      200,
      {
        tenant_discovery_endpoint: `${sandbox.authorityHost}/${segment}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [
          {
            preferred_network: authorityHostName,
            preferred_cache: authorityHostName,
            aliases: [authorityHostName],
          },
        ],
      },
      { 'content-type': 'application/json; charset=utf-8' },
    );
  });

  const keys = (ctx: Ctx): SandboxResponse => {
    if (!resolveTenant(sandbox, ctx.params.tenant ?? '')) {
      return aadError(ctx, {
        error: 'invalid_tenant',
        code: 90002,
        message: unknownTenantMessage(ctx.params.tenant ?? ''),
      });
    }
    return json(200, sandbox.keys.jwks(), { 'content-type': 'application/json; charset=utf-8' });
  };
  r.on('GET', '/:tenant/discovery/v2.0/keys', keys);
  r.on('GET', '/:tenant/discovery/keys', keys);
}
