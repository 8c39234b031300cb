import { loadAllActions } from '../shared/services';
import { openApiDocument } from '../shared/actions/openapi';
import { httpHandler, jsonResponse } from '../shared/http/handler';
import { registerHttp } from '../shared/runtime/register';

let cached: unknown;

/** GET /api/openapi.json: the API, generated from the action declarations (no secrets in it). */
export const openapi = httpHandler(async () => {
  loadAllActions();
  cached ??= openApiDocument();
  return jsonResponse(200, cached, { 'cache-control': 'public, max-age=300' });
});

registerHttp('openapi', {
  route: 'openapi.json',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: openapi,
});
