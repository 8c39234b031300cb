/**
 * Who calls /api/mcp: an MCP client with an access token this server issued (audience /api/mcp,
 * a live grant), or the platform with its caller JWT (shared/http/caller.ts). Every refusal is a
 * 401 whose `WWW-Authenticate` names the protected resource metadata (RFC 9728 §5.1), which is
 * how an MCP client finds where to sign its user in.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { getConfig } from '../../config';
import { authenticateCaller, type Caller } from '../../http/caller';
import { httpHandler } from '../../http/handler';
import { Problem } from '../../http/problem';
import { OAuthError } from './clients';
import { isOurToken, verifyAccessToken } from './grants';
import { bearerChallenge, type McpScope } from './metadata';

export interface McpCaller extends Caller {
  /** Set for an MCP client's token: what its grant allows. */
  client?: { clientId: string; grantId: string; scope: McpScope[] };
}

function challenge(detail: string, error?: string): Problem {
  return new Problem(
    'unauthenticated',
    detail,
    {},
    {
      'www-authenticate': bearerChallenge(error ? { error, description: detail } : undefined),
    },
  );
}

export async function authenticateMcpCaller(request: HttpRequest): Promise<McpCaller> {
  const oauth = getConfig().MCP_OAUTH;
  const header = request.headers.get('authorization');
  if (!header && oauth)
    throw challenge(
      'Sign in: this MCP server takes an OAuth access token (see the resource_metadata in WWW-Authenticate), or the platform caller JWT.',
    );
  const bearer = /^Bearer\s+(\S+)$/i.exec(header?.trim() ?? '')?.[1];
  if (oauth && bearer && isOurToken(bearer)) {
    try {
      const access = await verifyAccessToken(bearer);
      return {
        userId: access.userId,
        client: { clientId: access.clientId, grantId: access.grant.grantId, scope: access.scope },
      };
    } catch (err) {
      if (err instanceof OAuthError) throw challenge(err.description, err.error);
      throw err;
    }
  }
  try {
    return await authenticateCaller(request);
  } catch (err) {
    // The platform's refusal, with the discovery hint an MCP client needs.
    if (oauth && err instanceof Problem && err.status === 401) throw challenge(err.detail, 'invalid_token');
    throw err;
  }
}

export interface McpRequestContext {
  request: HttpRequest;
  context: InvocationContext;
  requestId: string;
  caller: McpCaller;
}

/** httpHandler with the MCP caller (the /api/mcp route and the user's own grant routes). */
export function mcpAuthedHandler(fn: (rc: McpRequestContext) => Promise<HttpResponseInit>) {
  return httpHandler(async (rc) => {
    const caller = await authenticateMcpCaller(rc.request);
    return await fn({ ...rc, caller });
  });
}
