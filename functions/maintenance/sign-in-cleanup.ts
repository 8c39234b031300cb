import type { InvocationContext, Timer } from '@azure/functions';
import { cleanUpSignIns } from '../../shared/mcp/oauth/cleanup';
import { registerTimer } from '../../shared/runtime/register';

/** Daily: expired sign-in states, MCP authorizations and codes, idle grants, unused registered clients. */
export async function signInCleanupTimer(_timer: Timer, context: InvocationContext): Promise<void> {
  context.log(JSON.stringify({ event: 'sign_in_cleanup', ...(await cleanUpSignIns()) }));
}

registerTimer('signInCleanupTimer', { schedule: '0 23 3 * * *', handler: signInCleanupTimer });
