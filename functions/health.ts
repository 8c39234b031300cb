import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { checkHealth } from '../shared/health';
import { registerHttp } from '../shared/runtime/register';

/** GET /api/health: 200 when every dependency answers, 503 naming the failing part otherwise. */
export async function health(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const report = await checkHealth();
  if (report.status !== 'healthy') {
    const failing = report.parts.filter((p) => !p.ok).map((p) => p.name);
    context.warn(`health: unhealthy parts ${failing.join(', ')}`);
  }
  return {
    status: report.status === 'healthy' ? 200 : 503,
    headers: { 'cache-control': 'no-store' },
    jsonBody: report,
  };
}

registerHttp('health', { route: 'health', methods: ['GET'], authLevel: 'anonymous', handler: health });
