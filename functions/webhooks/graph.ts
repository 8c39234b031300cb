import type { HttpResponseInit } from '@azure/functions';
import { httpHandler } from '../../shared/http/handler';
import { registerHttp } from '../../shared/runtime/register';
import { installWebhookHooks } from '../../shared/webhooks/hooks';
import { handleGraphWebhook } from '../../shared/webhooks/http';

installWebhookHooks();

/**
 * POST /api/webhooks/graph: Graph's change notifications (and its validation handshake).
 * Anonymous because Graph sends no credentials; every item is checked against its clientState
 * (graph-behaviour.md §6.3–6.4, §6.5 [INT] "the webhook function must be anonymous").
 */
export const graphWebhook = httpHandler(
  async ({ request, context }): Promise<HttpResponseInit> =>
    await handleGraphWebhook(request, context, 'notifications'),
);

/** POST /api/webhooks/graph/lifecycle: lifecycle notifications (§6.6), same checks. */
export const graphLifecycleWebhook = httpHandler(
  async ({ request, context }): Promise<HttpResponseInit> =>
    await handleGraphWebhook(request, context, 'lifecycle'),
);

registerHttp('graphWebhook', {
  route: 'webhooks/graph',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: graphWebhook,
});
registerHttp('graphLifecycleWebhook', {
  route: 'webhooks/graph/lifecycle',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: graphLifecycleWebhook,
});
