/**
 * `npm run docs:api`: writes docs/api.md from the OpenAPI document (shared/actions/openapi.ts),
 * which is itself generated from the action declarations. test/unit/docs.test.ts fails when the
 * committed file differs from what this renders, so the reference never drifts from the code.
 * Deterministic: no dates, no ports, the order of the document.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import '../shared/services/all';
import { openApiDocument } from '../shared/actions/openapi';

type Schema = Record<string, unknown>;
type Doc = ReturnType<typeof openApiDocument>;

interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  'x-action-kind'?: string;
  'x-idempotent'?: boolean;
  'x-feature'?: string;
  'x-scopes'?: string[];
  'x-batchable'?: boolean;
  parameters?: Array<{ name: string; in: string; required?: boolean; description?: string; schema?: Schema }>;
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: Schema }> }>;
}

/** Routes the app serves that the OpenAPI document does not describe (listed when absent from it). */
const OTHER_ROUTES: Array<[string, string, string]> = [
  [
    'GET',
    '/changes',
    "The caller's change feed (`?after=<seq>&limit=&service=`), oldest first; see docs/architecture.md.",
  ],
  ['POST', '/mcp', 'Model Context Protocol endpoint (streamable HTTP, caller JWT): every action as a tool.'],
  ['GET', '/health', 'Anonymous health check: 200, or 503 naming the part that fails.'],
  [
    'GET',
    '/auth/microsoft/callback',
    'The OAuth redirect URI (anonymous; the browser lands here from Microsoft).',
  ],
  ['POST', '/webhooks/graph', "Microsoft Graph's change notifications (anonymous, checked by clientState)."],
  [
    'POST',
    '/webhooks/graph/lifecycle',
    "Graph's lifecycle notifications (anonymous, checked by clientState).",
  ],
];

const cell = (s: string): string =>
  s
    .replace(/\r?\n+/g, ' ')
    .replace(/\|/g, '\\|')
    .trim();
const code = (s: string): string => `\`${s}\``;

/** A short human type for a JSON Schema node. */
export function typeOf(s: Schema | undefined): string {
  if (!s) return 'any';
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' or ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  const alts = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (Array.isArray(alts)) return [...new Set(alts.map(typeOf))].join(' or ');
  const t = s.type;
  if (Array.isArray(t))
    return t.map((x) => (x === 'array' ? `array of ${typeOf(s.items as Schema)}` : String(x))).join(' or ');
  if (t === 'array') return `array of ${typeOf(s.items as Schema)}`;
  if (t === 'string' && typeof s.format === 'string') return `string (${s.format})`;
  if (typeof t === 'string') return t === 'number' && s.multipleOf === 1 ? 'integer' : t;
  return 'any';
}

function constraints(s: Schema): string[] {
  const out: string[] = [];
  const n = (k: string): number | undefined => (typeof s[k] === 'number' ? s[k] : undefined);
  const [minLen, maxLen] = [n('minLength'), n('maxLength')];
  if (maxLen !== undefined)
    out.push(minLen ? `${minLen}–${maxLen} characters` : `up to ${maxLen} characters`);
  else if (minLen) out.push(`at least ${minLen} characters`);
  const [min, max] = [n('minimum'), n('maximum')];
  if (min !== undefined && max !== undefined) out.push(`${min}–${max}`);
  else if (min !== undefined) out.push(`≥ ${min}`);
  else if (max !== undefined) out.push(`≤ ${max}`);
  const [minItems, maxItems] = [n('minItems'), n('maxItems')];
  if (maxItems !== undefined)
    out.push(minItems ? `${minItems}–${maxItems} items` : `up to ${maxItems} items`);
  else if (minItems) out.push(`at least ${minItems} items`);
  if (s.default !== undefined) out.push(`default ${code(JSON.stringify(s.default))}`);
  return out;
}

/** A description with its constraints in brackets. */
function describe(description: unknown, s: Schema | undefined): string {
  const text = typeof description === 'string' ? description.trim() : '';
  const extra = s ? constraints(s) : [];
  return [text, extra.length ? `(${extra.join(', ')})` : ''].filter(Boolean).join(' ');
}

interface Row {
  name: string;
  type: string;
  required: boolean;
  description: string;
}

/** Object properties as rows, nested objects as `a.b`, arrays of objects as `a[].b` (depth-limited). */
export function fieldRows(schema: Schema | undefined, prefix = '', depth = 0): Row[] {
  if (!schema || depth > 3) return [];
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  const rows: Row[] = [];
  for (const [name, prop] of Object.entries(props)) {
    const path = `${prefix}${name}`;
    const description = describe(prop.description, prop);
    rows.push({ name: path, type: typeOf(prop), required: required.has(name), description });
    const nested: Array<[Schema, string]> = [];
    const alts = ((prop.anyOf ?? prop.oneOf) as Schema[] | undefined) ?? [prop];
    for (const alt of alts) {
      if (alt.properties) nested.push([alt, `${path}.`]);
      const items = alt.items as Schema | undefined;
      if (items?.properties) nested.push([items, `${path}[].`]);
    }
    const seen = new Set(rows.map((r) => r.name));
    for (const [child, childPrefix] of nested) {
      for (const row of fieldRows(child, childPrefix, depth + 1)) {
        if (!seen.has(row.name)) {
          seen.add(row.name);
          rows.push(row);
        }
      }
    }
  }
  return rows;
}

function table(rows: Row[], withRequired: boolean): string[] {
  if (rows.length === 0) return ['_No fields._', ''];
  const head = withRequired
    ? ['| Field | Type | Required | Description |', '| --- | --- | --- | --- |']
    : ['| Field | Type | Description |', '| --- | --- | --- |'];
  return [
    ...head,
    ...rows.map((r) =>
      withRequired
        ? `| ${code(r.name)} | ${cell(r.type)} | ${r.required ? 'yes' : 'no'} | ${cell(r.description)} |`
        : `| ${code(r.name)} | ${cell(r.type)} | ${cell(r.description)} |`,
    ),
    '',
  ];
}

const anchor = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');

function renderOperation(method: string, path: string, op: Operation): string[] {
  const title = `${op.operationId ?? `${method.toUpperCase()} ${path}`}`;
  const lines = [
    `### ${title}`,
    '',
    `${code(`${method.toUpperCase()} /api${path}`)} — ${op.summary ?? ''}`,
    '',
  ];
  const facts: string[] = [];
  if (op['x-action-kind']) facts.push(`kind **${op['x-action-kind']}**`);
  if (op['x-idempotent'] !== undefined) facts.push(`idempotent ${op['x-idempotent'] ? 'yes' : 'no'}`);
  if (op['x-feature']) facts.push(`feature ${code(op['x-feature'])}`);
  if (op['x-scopes']?.length) facts.push(`Graph scopes ${op['x-scopes'].map(code).join(', ')}`);
  if (op['x-batchable'] !== undefined) facts.push(`batchable ${op['x-batchable'] ? 'yes' : 'no'}`);
  if (facts.length) lines.push(facts.join(' · '), '');
  if (op.description) lines.push(op.description, '');

  const params = op.parameters ?? [];
  if (params.length) {
    lines.push('**Parameters**', '');
    lines.push('| Name | In | Type | Required | Description |', '| --- | --- | --- | --- | --- |');
    for (const p of params) {
      const description = describe(p.description, p.schema);
      lines.push(
        `| ${code(p.name)} | ${p.in} | ${cell(typeOf(p.schema))} | ${p.required ? 'yes' : 'no'} | ${cell(description)} |`,
      );
    }
    lines.push('');
  }
  const body = op.requestBody?.content ?? {};
  for (const [type, media] of Object.entries(body)) {
    if (type === 'application/json') {
      lines.push('**Request body** (`application/json`)', '', ...table(fieldRows(media.schema), true));
    } else {
      lines.push(`**Request body**: the raw content (${code(type)}).`, '');
    }
  }
  const responses = op.responses ?? {};
  const success = Object.keys(responses).find((s) => s.startsWith('2'));
  if (success) {
    const schema = responses[success]?.content?.['application/json']?.schema;
    const rows = fieldRows(schema);
    lines.push(
      `**Response** ${code(success)}${rows.length ? '' : `: ${responses[success]?.description ?? ''}`}`,
      '',
    );
    if (rows.length) lines.push(...table(rows, false));
  }
  const errors = Object.keys(responses).filter((s) => !s.startsWith('2'));
  if (errors.length) {
    lines.push(
      `**Errors**: ${errors.map(code).join(', ')} as problem+json — see [troubleshooting](troubleshooting.md).`,
      '',
    );
  }
  return lines;
}

/** The whole of docs/api.md for an OpenAPI document. */
export function renderApiDocs(doc: Doc = openApiDocument()): string {
  const info = doc.info as { title: string; version: string; description: string };
  const paths = doc.paths as Record<string, Record<string, Operation>>;
  const tags = (doc.tags as Array<{ name: string }>).map((t) => t.name);
  const byTag = new Map<string, Array<[string, string, Operation]>>(tags.map((t) => [t, []]));
  for (const [path, methods] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = op.tags?.[0] ?? 'platform';
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag)!.push([method, path, op]);
    }
  }

  const out: string[] = [
    '<!-- Generated by `npm run docs:api` (scripts/gen-api-docs.ts) from the OpenAPI document. Do not edit by hand. -->',
    '',
    `# ${info.title} — API reference (v${info.version})`,
    '',
    info.description,
    '',
    '## Calling the API',
    '',
    '- **Base URL**: `https://<function-app>.azurewebsites.net/api` (locally `http://localhost:7071/api`). The machine-readable document is `GET /api/openapi.json`.',
    "- **Authentication**: every route below needs the function key (`x-functions-key` header) and the platform's caller JWT (`Authorization: Bearer <jwt>`, at most 15 minutes, `sub` = the platform user id). The user is only ever taken from the token.",
    '- **Actions** are `POST /api/<service>/<action>` with the input as a JSON body (a few downloads and uploads take their input from the query string). Success is `200` (or `201` where noted) with a JSON result of our own shape; ids are Graph ids.',
    '- **Lists** return `{ items, nextCursor? }`; pass `cursor` back for the next page.',
    "- **Several Microsoft accounts**: every action also takes `account` (the email or id of one of the user's connected accounts; without it, the default). `GET /api/connections/me` lists them, `PUT /api/connections/me/default` changes the default, `DELETE /api/connections/me/accounts/{id}` disconnects one; an account that is not connected is `404 account_not_found`.",
    '- **Time zones**: send `X-Timezone: Europe/Berlin` (or `Prefer: outlook.timezone="..."`) to get times in that zone.',
    '- **Idempotency-Key**: actions marked with the header replay the first result for 24 h instead of acting twice; the key is bound to the input (another input with the same key is `422 idempotency_key_reused`). A first attempt whose outcome is unknown is resolved by the next repeat (mail is looked up in Sent Items, events by transactionId), never silently run again. See [security.md](security.md#idempotency-and-unknown-outcomes).',
    '- **Errors** are `application/problem+json` with a stable `code` and the `requestId` (also the `x-request-id` header); [troubleshooting.md](troubleshooting.md) lists every code with causes and fixes.',
    '- **Batches**: `POST /api/batch` runs up to 100 batchable actions as Graph `$batch` calls.',
    '',
    '## Contents',
    '',
  ];
  for (const [tag, ops] of byTag) {
    if (ops.length === 0) continue;
    out.push(
      `- [${tag}](#${anchor(tag)}): ${ops.map(([m, p, op]) => `[${op.operationId ?? `${m.toUpperCase()} ${p}`}](#${anchor(op.operationId ?? `${m} ${p}`)})`).join(', ')}`,
    );
  }
  const missing = OTHER_ROUTES.filter(([method, path]) => !paths[path]?.[method.toLowerCase()]);
  if (missing.length) out.push('- [Other routes](#other-routes)');
  out.push('');
  for (const [tag, ops] of byTag) {
    if (ops.length === 0) continue;
    out.push(`## ${tag}`, '');
    for (const [method, path, op] of ops) out.push(...renderOperation(method, path, op));
  }
  if (missing.length) {
    out.push('## Other routes', '', 'Served by the app but not described in the OpenAPI document:', '');
    out.push('| Method | Route | What it is |', '| --- | --- | --- |');
    for (const [method, path, what] of missing)
      out.push(`| ${method} | ${code(`/api${path}`)} | ${cell(what)} |`);
    out.push('');
  }
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

/** Where the generated file lives (from the sources and from dist/). */
export function apiDocsPath(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'docs', 'api.md');
}

if (require.main === module) {
  const file = apiDocsPath();
  writeFileSync(file, renderApiDocs());
  console.log(`wrote ${file}`);
}
