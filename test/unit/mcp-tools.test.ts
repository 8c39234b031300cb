/**
 * MCP tools come from the action declarations: every JSON-bodied action is a tool named by its id,
 * with the OpenAPI request schema as its input schema (plus `confirm` on destructive tools), and
 * annotations from its kind and idempotency. Checked over every declared action, so actions added
 * later are covered without touching this file.
 */
import '../../shared/services/all';
import { openApiDocument } from '../../shared/actions/openapi';
import { allActions } from '../../shared/actions/registry';
import { FEATURES } from '../../shared/config';
import { callTool } from '../../shared/mcp/call';
import { CONFIRM, isTool, notOfferedReason, toolsFor } from '../../shared/mcp/tools';

/** A tool error's problem+json: its second text block (errors carry no structuredContent). */
function problemOf(result: { content: unknown[]; structuredContent?: unknown }): unknown {
  expect(result.structuredContent).toBeUndefined();
  return JSON.parse((result.content[1] as { text: string }).text);
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const everything = { granted: [...FEATURES], readOnly: false };
const operations = new Map<string, Json>();
for (const item of Object.values(openApiDocument().paths as Record<string, Json>)) {
  for (const op of Object.values(item) as Json[]) operations.set(String(op.operationId), op);
}

test('every action with a JSON body is a tool named by its id; raw-stream actions are not', () => {
  const tools = toolsFor(everything);
  const names = tools.map((t) => t.name);
  for (const action of allActions()) {
    const json = Boolean(operations.get(action.id)?.requestBody?.content?.['application/json']);
    expect([action.id, names.includes(action.id)]).toEqual([action.id, json]);
    if (!json) expect(notOfferedReason(action)).toMatch(/HTTP route/);
  }
  // MCP tool names: 1–128 of [A-Za-z0-9_.-] (spec 2025-11-25, tools § Tool names).
  for (const name of names) expect(name).toMatch(/^[A-Za-z0-9_.-]{1,128}$/);
  expect(
    allActions()
      .filter((a) => a.streamBody || a.httpMethod === 'GET')
      .every((a) => !isTool(a)),
  ).toBe(true);
});

test("each tool's input schema is the OpenAPI request schema, plus an optional account, and confirm on destructive tools and guarded sends", () => {
  const guarded = allActions()
    .filter((a) => a.guard)
    .map((a) => a.id);
  expect(guarded).toEqual(expect.arrayContaining(['mail.sendMessage', 'mail.replyToMessage']));
  for (const tool of toolsFor(everything)) {
    const op = operations.get(tool.name)!;
    const expected = op.requestBody.content['application/json'].schema as Json;
    const properties = { ...(tool.inputSchema.properties as Json) };
    if (expected.properties) {
      expect(properties.account).toMatchObject({ type: 'string' });
      expect(tool.inputSchema.required ?? []).not.toContain('account');
      delete properties.account;
    }
    if (guarded.includes(tool.name)) {
      expect(properties[CONFIRM]).toMatchObject({ type: 'boolean' });
      expect(properties.confirmationToken).toMatchObject({ type: 'string' });
      expect(tool.inputSchema.required ?? []).not.toContain(CONFIRM);
      delete properties[CONFIRM];
      delete properties.confirmationToken;
    } else if (op['x-action-kind'] === 'destructive') {
      expect(properties[CONFIRM]).toMatchObject({ type: 'boolean' });
      expect(tool.inputSchema.required ?? []).not.toContain(CONFIRM);
      delete properties[CONFIRM];
    } else {
      expect(properties).not.toHaveProperty(CONFIRM);
    }
    expect({ ...tool.inputSchema, properties }).toEqual(expected);
  }
});

test('no action declares an input named confirm or account (reserved for the MCP safety gate and the account choice)', () => {
  for (const action of allActions()) {
    const props = (operations.get(action.id)?.requestBody?.content?.['application/json']?.schema
      ?.properties ?? {}) as Json;
    expect([action.id, CONFIRM in props, 'account' in props]).toEqual([action.id, false, false]);
  }
});

test('annotations follow the declaration: read-only, destructive, idempotent', () => {
  for (const tool of toolsFor(everything)) {
    const action = allActions().find((a) => a.id === tool.name)!;
    expect(tool.annotations).toMatchObject({
      readOnlyHint: action.kind === 'read',
      destructiveHint: action.kind === 'destructive',
      idempotentHint: action.idempotent,
    });
    expect(tool.title).toBe(action.summary);
    expect(tool.description).toContain(action.description);
    if (action.kind === 'destructive') expect(tool.description).toMatch(/"confirm": true/);
  }
});

test('only granted features (plus base) are listed; read-only lists only read tools', () => {
  const mailOnly = toolsFor({ granted: ['mail'], readOnly: false });
  const features = new Set(mailOnly.map((t) => String(t._meta?.feature)));
  expect([...features].sort()).toEqual(['base', 'mail']);
  expect(mailOnly.map((t) => t.name)).toContain('profile.getMe');

  const none = toolsFor({ granted: [], readOnly: false });
  expect(none.every((t) => t._meta?.feature === 'base')).toBe(true);

  const readOnly = toolsFor({ granted: [...FEATURES], readOnly: true });
  expect(readOnly.length).toBeGreaterThan(0);
  expect(readOnly.every((t) => t.annotations?.readOnlyHint === true)).toBe(true);
});

describe('calls refused before any storage or Graph access', () => {
  const env = { userId: 'u1', invocationId: 'inv-1', log: console, noCache: false };
  const action = (id: string) => allActions().find((a) => a.id === id)!;

  test('a write tool on a read-only server', async () => {
    const result = await callTool(
      action('mail.sendMessage'),
      { to: ['a@b.test'] },
      { ...env, readOnly: true },
    );
    expect(result.isError).toBe(true);
    expect(problemOf(result)).toMatchObject({
      code: 'method_not_allowed',
      readOnly: true,
      requestId: 'inv-1',
    });
  });

  test('a raw-stream action called by name', async () => {
    const result = await callTool(action('mail.downloadAttachment'), {}, { ...env, readOnly: false });
    expect(problemOf(result)).toMatchObject({ code: 'method_not_allowed' });
    expect(result.content[0]).toMatchObject({ type: 'text', text: expect.stringMatching(/HTTP route/) });
  });

  test('a confirm that is not a boolean', async () => {
    const result = await callTool(
      action('mail.deleteFolder'),
      { folderId: 'f', confirm: 'yes' },
      { ...env, readOnly: false },
    );
    expect(problemOf(result)).toMatchObject({
      code: 'invalid_input',
      errors: [{ field: 'confirm', message: 'must be true or false' }],
    });
  });

  test('an idempotency key that cannot be honoured is refused, not ignored', async () => {
    const result = await callTool(
      action('mail.sendMessage'),
      { to: ['a@b.test'] },
      { ...env, readOnly: false, idempotencyKey: 'short' },
    );
    expect(problemOf(result)).toMatchObject({
      code: 'invalid_input',
      errors: [{ field: '_meta.idempotencyKey' }],
    });
  });

  test('arguments over the action body limit', async () => {
    const result = await callTool(
      action('mail.listFolders'),
      { parentFolder: 'x'.repeat(1024 * 1024 + 1) },
      { ...env, readOnly: false },
    );
    expect(problemOf(result)).toMatchObject({ code: 'payload_too_large', status: 413 });
  });
});
