import { mcpHandler } from '../shared/mcp/http';
import { registerHttp } from '../shared/runtime/register';

/**
 * /api/mcp: every declared action as an MCP tool (streamable HTTP; POST stateless), the change-feed
 * resources, and (GET) a session's stream of resource-updated notifications. Anonymous at the host
 * (MCP clients know nothing of function keys): the handler takes an access token of this app's
 * authorization server or the platform's caller JWT, and answers anything else with the RFC 9728
 * challenge (shared/mcp/oauth/bearer.ts).
 */
registerHttp('mcp', {
  route: 'mcp',
  methods: ['GET', 'POST', 'DELETE'],
  authLevel: 'anonymous',
  handler: mcpHandler,
});
