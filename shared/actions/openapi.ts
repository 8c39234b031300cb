/**
 * OpenAPI 3.1 generated from the action declarations: one operation per action, the action id as
 * its operationId, its kind, idempotency and required feature as extensions, so the platform can
 * offer the actions to an assistant as tools. The non-action routes are described here too.
 */
import { z } from 'zod';
import { FEATURES } from '../config';
import { PROBLEM_TYPES } from '../http/problem';
import { BatchBody } from './batch';
import { actionName, allActions } from './registry';
import type { Action } from './types';

type Json = Record<string, unknown>;

/** JSON Schema (2020-12, what OpenAPI 3.1 uses) of an action's input as callers send it. */
export function inputSchema(action: Action): Json {
  const schema = z.toJSONSchema(action.input, { io: 'input', unrepresentable: 'any' }) as Json;
  delete schema.$schema;
  return schema;
}

/** The JSON Schema of an action's result, when it declares one (OpenAPI response, MCP outputSchema). */
export function outputSchema(action: Action): Json | undefined {
  if (!action.output) return undefined;
  const schema = z.toJSONSchema(action.output, { io: 'output', unrepresentable: 'any' }) as Json;
  delete schema.$schema;
  return schema;
}

function problemResponse(description: string): Json {
  return {
    description,
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  };
}

const STANDARD_ERRORS: Json = {
  '400': problemResponse('invalid_input: every bad field is listed in `errors`'),
  '401': problemResponse('unauthenticated, or reauth_required (with `authorizationUrl`)'),
  '403': problemResponse('feature_not_granted (with `authorizationUrl`), feature_unavailable or forbidden'),
  '404': problemResponse('not_found'),
  '409': problemResponse('not_connected or conflict'),
  '429': problemResponse('throttled (with `retryAfter` seconds)'),
  '503': problemResponse('upstream_unavailable, storage_unavailable, app_credentials_invalid'),
};

function operation(action: Action): Json {
  const schema = inputSchema(action);
  const method = action.httpMethod ?? 'POST';
  const base: Json = {
    operationId: action.id,
    summary: action.summary,
    description: action.description,
    tags: [action.service],
    'x-action-kind': action.kind,
    'x-idempotent': action.idempotent,
    'x-feature': action.feature,
    'x-scopes': action.scopes,
    'x-batchable': typeof action.toGraph === 'function' && !action.streamBody && !action.idempotencyKey,
    responses: {
      [String(action.successStatus ?? 200)]: {
        description: 'The action result',
        content: {
          'application/json': {
            schema: outputSchema(action) ?? { type: 'object' },
          },
        },
      },
      ...STANDARD_ERRORS,
    },
  };
  if (action.idempotencyKey) {
    base.parameters = [
      {
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description:
          'A repeat with the same key and the same input within 24 h returns the first result and does nothing again; the same key with another input answers 422 idempotency_key_reused.',
        schema: { type: 'string', minLength: 8, maxLength: 200 },
      },
    ];
  }
  if (action.guard) {
    base['x-send-guard'] = true;
    base.parameters = [
      ...((base.parameters as Json[] | undefined) ?? []),
      {
        name: 'Confirmation-Token',
        in: 'header',
        required: false,
        description:
          'When the send policy asks for confirmation, the first call answers 409 confirmation_required with a preview and a confirmationToken; the identical request sent again with that token goes out (single-use, 15 minutes).',
        schema: { type: 'string', maxLength: 200 },
      },
    ];
    base.responses = {
      ...(base.responses as Json),
      '403': problemResponse(
        'recipient_not_allowed (with `domains`), feature_not_granted (with `authorizationUrl`), feature_unavailable or forbidden',
      ),
      '409': problemResponse(
        'confirmation_required (with `reasons`, `preview`, `confirmationToken`, `expiresAt`), not_connected or conflict',
      ),
    };
  }
  if (method === 'GET' || action.streamBody) {
    const props = (schema.properties ?? {}) as Record<string, Json>;
    const required = new Set((schema.required as string[] | undefined) ?? []);
    base.parameters = [
      ...((base.parameters as Json[] | undefined) ?? []),
      ...Object.entries(props).map(([name, s]) => ({
        name,
        in: 'query',
        required: required.has(name),
        ...(s.description ? { description: s.description } : {}),
        schema: s,
      })),
    ];
    if (action.streamBody) {
      base.requestBody = {
        required: true,
        description: 'The raw content',
        content: {
          'application/octet-stream': {
            schema: { type: 'string', contentMediaType: 'application/octet-stream' },
          },
        },
      };
    }
  } else {
    base.requestBody = { required: true, content: { 'application/json': { schema } } };
  }
  return { [method.toLowerCase()]: base };
}

function plain(summary: string, method: string, extra: Json = {}): Json {
  return {
    [method]: {
      summary,
      operationId: extra.operationId,
      tags: ['platform'],
      responses: { '200': { description: 'OK' }, ...STANDARD_ERRORS },
      ...extra,
    },
  };
}

export function openApiDocument(): Json {
  const paths: Record<string, Json> = {};
  for (const action of allActions()) {
    const path = `/${action.service}/${actionName(action)}`;
    paths[path] = { ...(paths[path] ?? {}), ...operation(action) };
  }
  paths['/auth/microsoft/start'] = plain(
    "Start connecting the caller's Microsoft account: returns an authorization URL",
    'post',
    {
      operationId: 'auth.start',
      requestBody: {
        required: false,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              additionalProperties: false,
              properties: {
                features: { type: 'array', items: { type: 'string', enum: [...FEATURES] } },
                returnUrl: { type: 'string', format: 'uri' },
                loginHint: { type: 'string' },
                prompt: { type: 'string', enum: ['login', 'consent', 'select_account', 'none'] },
                accountLabel: {
                  type: 'string',
                  maxLength: 128,
                  description: 'How the platform names the user; shown on the confirmation page',
                },
              },
            },
          },
        },
      },
    },
  );
  paths['/auth/microsoft/complete'] = plain(
    'Confirm a sign-in that came back with status=confirm: only the user who started it can (docs/security.md)',
    'post',
    {
      operationId: 'auth.complete',
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              additionalProperties: false,
              required: ['completionCode'],
              properties: {
                completionCode: {
                  type: 'string',
                  pattern: '^[A-Za-z0-9_-]{20,100}$',
                  description: 'The `completion` parameter of the return URL, or the code on the result page',
                },
              },
            },
          },
        },
      },
    },
  );
  paths['/auth/microsoft/admin-consent-url'] = plain(
    'The admin-consent URL for tenants whose administrators must consent',
    'get',
    { operationId: 'auth.adminConsentUrl' },
  );
  paths['/connections/me'] = {
    ...plain("The caller's connection status, account and granted features", 'get', {
      operationId: 'connection.get',
    }),
    ...plain('Disconnect and erase everything held for the caller', 'delete', {
      operationId: 'connection.delete',
    }),
  };
  paths['/connections/me/export'] = plain(
    'Every stored datum about the caller, except secrets (GDPR access)',
    'get',
    { operationId: 'connection.export' },
  );
  paths['/audit'] = plain("The caller's audit entries, newest first", 'get', { operationId: 'audit.list' });
  const batchSchema = z.toJSONSchema(BatchBody, { io: 'input', unrepresentable: 'any' }) as Json;
  delete batchSchema.$schema;
  paths['/batch'] = plain('Run up to 100 actions as Graph $batch calls; results in request order', 'post', {
    operationId: 'batch.run',
    requestBody: { required: true, content: { 'application/json': { schema: batchSchema } } },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'Microsoft 365 integration',
      version: '1.0.0',
      description:
        "Actions on the caller's Microsoft 365 account (Outlook mail, Calendar, OneDrive, Teams, Contacts, To Do) through Microsoft Graph. Every call needs the platform's caller JWT; the user is the token's `sub`.",
    },
    servers: [{ url: '/api' }],
    security: [{ callerJwt: [], functionKey: [] }],
    tags: [...new Set<string>(allActions().map((a) => a.service)), 'platform'].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        callerJwt: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'Platform-issued, at most 15 minutes, `sub` = user id',
        },
        functionKey: { type: 'apiKey', in: 'header', name: 'x-functions-key' },
      },
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'code', 'detail'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            code: { type: 'string', enum: Object.keys(PROBLEM_TYPES) },
            detail: { type: 'string' },
            requestId: { type: 'string' },
            errors: {
              type: 'array',
              items: {
                type: 'object',
                properties: { field: { type: 'string' }, message: { type: 'string' } },
              },
            },
            authorizationUrl: { type: 'string' },
            retryAfter: { type: 'integer' },
          },
        },
      },
    },
  };
}
