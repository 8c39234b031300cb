import { mcpHandler } from '../shared/mcp/http';
import { registerHttp } from '../shared/runtime/register';

/**
 * /api/mcp: every declared action as an MCP tool (streamable HTTP; POST stateless), the change-feed
 * resources, and (GET) a session's stream of resource-updated notifications. Same auth as the
 * action routes: function key and the caller's JWT.
 */
registerHttp('mcp', {
  route: 'mcp',
  methods: ['GET', 'POST', 'DELETE'],
  authLevel: 'function',
  handler: mcpHandler,
});
