import { mcpHandler } from '../shared/mcp/http';
import { registerHttp } from '../shared/runtime/register';

/**
 * POST /api/mcp: every declared action as an MCP tool (streamable HTTP, stateless), plus the
 * change-feed resource. Same auth as the action routes: function key and the caller's JWT.
 */
registerHttp('mcp', {
  route: 'mcp',
  methods: ['GET', 'POST', 'DELETE'],
  authLevel: 'function',
  handler: mcpHandler,
});
