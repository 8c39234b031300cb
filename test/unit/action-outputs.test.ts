/**
 * Every action with a JSON result declares its output schema (OpenAPI's success response, MCP's
 * outputSchema), and the check that holds each real result to it in the tests
 * (shared/actions/output.ts, on for every test through test/support/quiet.ts) does reject what it
 * should.
 */
import { z } from 'zod';
import '../../shared/services/all';
import { openApiDocument, outputSchema } from '../../shared/actions/openapi';
import { checkOutput } from '../../shared/actions/output';
import { DRY_RUN_SCHEMA } from '../../shared/mcp/results';
import { isTool, rootObject, toolDefinition } from '../../shared/mcp/tools';
import { envelopeSchema } from '../../shared/mcp/untrusted';
import { allActions } from '../../shared/actions/registry';
import type { Action } from '../../shared/actions/types';

type Json = Record<string, unknown>;

/**
 * Raw byte answers (downloads: a stream or a 302 to a pre-authenticated URL) have no JSON output
 * to describe.
 */
const answersBytes = (a: Action) => a.httpMethod === 'GET' && a.kind === 'read' && /download/i.test(a.id);

test('every action with a JSON result declares its output schema', () => {
  const missing = allActions()
    .filter((a) => !a.output && !answersBytes(a))
    .map((a) => a.id);
  expect(missing).toEqual([]);
  expect(
    allActions()
      .filter(answersBytes)
      .map((a) => a.id),
  ).toEqual([
    'calendar.downloadEventAttachment',
    'files.download',
    'mail.downloadAttachment',
    'meetings.downloadRecording',
    'teams.downloadMessageImage',
  ]);
});

describe('the output check', () => {
  const action = {
    id: 'test.getThing',
    output: z.object({ id: z.string(), size: z.number().nullable() }),
  } as unknown as Action;
  const previous = process.env.ACTION_OUTPUT_CHECK;
  afterAll(() => {
    process.env.ACTION_OUTPUT_CHECK = previous;
  });

  test('is on in the tests', () => {
    expect(process.env.ACTION_OUTPUT_CHECK).toBe('strict');
  });

  test('accepts exactly what the schema describes', () => {
    expect(() => checkOutput(action, { id: 'a', size: null })).not.toThrow();
  });

  test('rejects a wrong type, naming the field', () => {
    expect(() => checkOutput(action, { id: 'a', size: '12' })).toThrow(/test.getThing .*size/);
  });

  test('rejects a field the schema does not name (an undocumented output)', () => {
    expect(() => checkOutput(action, { id: 'a', size: 1, secret: 'x' })).toThrow(/does not name/);
  });

  test('checks nothing when off (production)', () => {
    process.env.ACTION_OUTPUT_CHECK = '';
    expect(() => checkOutput(action, { id: 1 })).not.toThrow();
    process.env.ACTION_OUTPUT_CHECK = 'strict';
  });
});

test('OpenAPI success responses and MCP outputSchema are the declared output schema', () => {
  const doc = openApiDocument() as unknown as {
    paths: Record<string, Record<string, { operationId: string; responses: Record<string, Json> }>>;
  };
  const operations = Object.values(doc.paths).flatMap((p) => Object.values(p));
  for (const action of allActions().filter((a) => a.output)) {
    const op = operations.find((o) => o.operationId === action.id)!;
    const published = (op.responses[String(action.successStatus ?? 200)] as Json).content as Json;
    expect((published['application/json'] as Json).schema).toEqual(outputSchema(action));
    // MCP publishes the same schema with untrusted text enveloped (shared/mcp/untrusted.ts).
    // A destructive tool may also answer with a dry run (without confirm), which its schema allows.
    const enveloped = rootObject(envelopeSchema(outputSchema(action)) as Record<string, unknown>);
    if (isTool(action))
      // MCP tools/list: an output schema is a JSON Schema object with type "object" at its root.
      expect(toolDefinition(action).outputSchema?.type).toBe('object');
    if (isTool(action))
      expect(toolDefinition(action).outputSchema).toEqual(
        action.kind === 'destructive' ? { type: 'object', anyOf: [enveloped, DRY_RUN_SCHEMA] } : enveloped,
      );
  }
});
