/**
 * The platform's event endpoints (docs/events.md), managed with the host's master key
 * (authLevel admin: these are the platform's, not a user's):
 * - GET /api/events/endpoints: the list, with whether each is disabled (410 Gone) and why;
 * - PUT /api/events/endpoints `{url, types?}`: registers or re-enables one (https, or http on
 *   loopback; `types` as in docs/events.md, e.g. ["mail.*", "connection.reauth_required"]);
 * - DELETE /api/events/endpoints/{id};
 * - GET /api/events/dead-letters: events that failed for EVENTS_RETRY_FOR_SECONDS.
 */
import { listDeadLetters } from '../../shared/events/deliver';
import { deleteEndpoint, endpointProblems, listEndpoints, putEndpoint } from '../../shared/events/endpoints';
import { Problem } from '../../shared/http/problem';
import { httpHandler, jsonResponse } from '../../shared/http/handler';
import { invalidInput, readJson } from '../../shared/http/validate';
import { registerHttp } from '../../shared/runtime/register';

export const listEventEndpoints = httpHandler(async () =>
  jsonResponse(200, { items: await listEndpoints({ fresh: true }) }),
);

export const putEventEndpoint = httpHandler(async ({ request }) => {
  const body = (await readJson(request)) as { url?: unknown; types?: unknown } | null;
  const unknown = Object.keys(body ?? {}).filter((k) => k !== 'url' && k !== 'types');
  const problems = [
    ...endpointProblems(body?.url, body?.types),
    ...unknown.map((k) => ({ field: k, message: 'is not a field of an endpoint (url, types)' })),
  ];
  if (problems.length > 0) throw invalidInput(problems);
  const endpoint = await putEndpoint(body!.url as string, (body!.types as string[] | undefined) ?? []);
  return jsonResponse(200, endpoint);
});

export const deleteEventEndpoint = httpHandler(async ({ request }) => {
  const id = request.params.id ?? '';
  if (!(await deleteEndpoint(id))) throw new Problem('not_found', `No event endpoint has the id "${id}".`);
  return { status: 204 };
});

export const listEventDeadLetters = httpHandler(async () =>
  jsonResponse(200, { items: await listDeadLetters() }),
);

registerHttp('eventEndpointsList', {
  route: 'events/endpoints',
  methods: ['GET'],
  authLevel: 'admin',
  handler: listEventEndpoints,
});
registerHttp('eventEndpointsPut', {
  route: 'events/endpoints',
  methods: ['PUT'],
  authLevel: 'admin',
  handler: putEventEndpoint,
});
registerHttp('eventEndpointsDelete', {
  route: 'events/endpoints/{id}',
  methods: ['DELETE'],
  authLevel: 'admin',
  handler: deleteEventEndpoint,
});
registerHttp('eventDeadLetters', {
  route: 'events/dead-letters',
  methods: ['GET'],
  authLevel: 'admin',
  handler: listEventDeadLetters,
});
