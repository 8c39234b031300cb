/**
 * Holds JSON the sandbox returns to Graph's v1.0 API description (sandbox/graph/metadata): every
 * property of an entity must be declared on its type or a base type (structural or navigation),
 * with a value of the declared type: Edm primitives (dates as ISO 8601, durations, GUIDs),
 * enum members by name, complex types and collections recursively. OData annotations
 * (`@odata.*`, `@microsoft.graph.*`) are allowed. `@odata.type` picks a derived type. Open
 * complex types may carry undeclared primitive values (CSDL dynamic properties); entities may not.
 */
import { readMetadata } from '../../sandbox/graph/metadata/csdl';

interface Property {
  type: string;
  nullable: boolean;
  navigation: boolean;
}

interface StructuredType {
  name: string;
  base?: string;
  properties: Map<string, Property>;
  isEntity: boolean;
  /** OpenType: may carry dynamic properties besides the declared ones. */
  open: boolean;
}

interface Model {
  types: Map<string, StructuredType>;
  enums: Map<string, { members: Set<string>; flags: boolean }>;
}

let model: Model | undefined;

const qualify = (type: string) => type.replace(/(^|\()graph\./g, '$1microsoft.graph.');

function attr(tag: string, name: string): string | undefined {
  return new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1];
}

export function loadModel(): Model {
  if (model) return model;
  const xml = readMetadata();
  const types = new Map<string, StructuredType>();
  const enums = new Map<string, { members: Set<string>; flags: boolean }>();
  for (const schema of xml.matchAll(/<Schema Namespace="([^"]+)"[^>]*>([\s\S]*?)<\/Schema>/g)) {
    const ns = schema[1]!;
    const body = schema[2]!;
    for (const m of body.matchAll(/<(EntityType|ComplexType)\b([^>]*?)(\/>|>([\s\S]*?)<\/\1>)/g)) {
      const name = `${ns}.${attr(m[2]!, 'Name')!}`;
      const base = attr(m[2]!, 'BaseType');
      const properties = new Map<string, Property>();
      for (const p of (m[4] ?? '').matchAll(/<(Property|NavigationProperty)\b([^>]*)\/?>/g)) {
        properties.set(attr(p[2]!, 'Name')!, {
          type: qualify(attr(p[2]!, 'Type')!),
          nullable: attr(p[2]!, 'Nullable') !== 'false',
          navigation: p[1] === 'NavigationProperty',
        });
      }
      types.set(name, {
        name,
        ...(base ? { base: qualify(base) } : {}),
        properties,
        isEntity: m[1] === 'EntityType',
        open: attr(m[2]!, 'OpenType') === 'true',
      });
    }
    for (const m of body.matchAll(/<EnumType\b([^>]*)>([\s\S]*?)<\/EnumType>/g)) {
      const members = new Set([...m[2]!.matchAll(/<Member Name="([^"]+)"/g)].map((x) => x[1]!));
      enums.set(`${ns}.${attr(m[1]!, 'Name')!}`, { members, flags: attr(m[1]!, 'IsFlags') === 'true' });
    }
  }
  model = { types, enums };
  return model;
}

const DYNAMIC_ENTITIES = new Set(['microsoft.graph.fieldValueSet']);

function property(m: Model, typeName: string, name: string): Property | undefined {
  for (let t = m.types.get(typeName); t; t = t.base ? m.types.get(t.base) : undefined) {
    const p = t.properties.get(name);
    if (p) return p;
  }
  return undefined;
}

function derivesFrom(m: Model, typeName: string, ancestor: string): boolean {
  for (let t = m.types.get(typeName); t; t = t.base ? m.types.get(t.base) : undefined)
    if (t.name === ancestor) return true;
  return false;
}

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})$/;

function checkPrimitive(type: string, value: unknown): string | undefined {
  switch (type) {
    case 'Edm.String':
      return typeof value === 'string' ? undefined : 'a string';
    case 'Edm.Boolean':
      return typeof value === 'boolean' ? undefined : 'a boolean';
    case 'Edm.Int16':
    case 'Edm.Int32':
    case 'Edm.Int64':
    case 'Edm.Byte':
    case 'Edm.SByte':
      return Number.isInteger(value) ? undefined : 'an integer';
    case 'Edm.Double':
    case 'Edm.Single':
    case 'Edm.Decimal':
      return typeof value === 'number' || ['NaN', 'INF', '-INF'].includes(value as string)
        ? undefined
        : 'a number';
    case 'Edm.DateTimeOffset':
      return typeof value === 'string' && ISO_DATETIME.test(value)
        ? undefined
        : 'an ISO 8601 date-time with offset';
    case 'Edm.Date':
      return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)
        ? undefined
        : 'a date (YYYY-MM-DD)';
    case 'Edm.TimeOfDay':
      return typeof value === 'string' && /^\d{2}:\d{2}(:\d{2}(\.\d{1,12})?)?$/.test(value)
        ? undefined
        : 'a time of day (hh:mm:ss)';
    case 'Edm.Duration':
      return typeof value === 'string' && /^-?P(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/.test(value)
        ? undefined
        : 'an ISO 8601 duration';
    case 'Edm.Guid':
      return typeof value === 'string' &&
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)
        ? undefined
        : 'a GUID';
    case 'Edm.Binary':
      return typeof value === 'string' && /^[A-Za-z0-9+/=_-]*$/.test(value) ? undefined : 'base64';
    case 'Edm.Stream':
    case 'Edm.Untyped':
      return undefined;
    default:
      return undefined;
  }
}

/** Every way `value` differs from `typeName` (e.g. `microsoft.graph.message`), by path. */
export function schemaIssues(typeName: string, value: unknown, path = '$'): string[] {
  const m = loadModel();
  const issues: string[] = [];
  const check = (type: string, v: unknown, nullable: boolean, at: string): void => {
    if (v === null) {
      if (!nullable) issues.push(`${at}: null, but ${type} is not nullable`);
      return;
    }
    const collection = /^Collection\((.+)\)$/.exec(type);
    if (collection) {
      if (!Array.isArray(v)) issues.push(`${at}: should be a collection of ${collection[1]}`);
      else v.forEach((x, i) => check(collection[1]!, x, true, `${at}[${i}]`));
      return;
    }
    if (type.startsWith('Edm.')) {
      const wrong = checkPrimitive(type, v);
      if (wrong) issues.push(`${at}: ${JSON.stringify(v)?.slice(0, 60)} should be ${wrong}`);
      return;
    }
    const e = m.enums.get(type);
    if (e) {
      const names = typeof v === 'string' ? (e.flags ? v.split(',').map((s) => s.trim()) : [v]) : [];
      if (!names.length || names.some((n) => !e.members.has(n)))
        issues.push(
          `${at}: ${JSON.stringify(v)} is not a member of ${type} (${[...e.members].slice(0, 8).join(', ')}…)`,
        );
      return;
    }
    if (!m.types.has(type)) {
      issues.push(`${at}: unknown type ${type}`);
      return;
    }
    if (typeof v !== 'object' || Array.isArray(v)) {
      issues.push(`${at}: should be an object of ${type}`);
      return;
    }
    let actual = type;
    const declared = (v as Record<string, unknown>)['@odata.type'];
    if (typeof declared === 'string') {
      const t = declared.replace(/^#/, '');
      if (!m.types.has(t)) issues.push(`${at}.@odata.type: unknown type ${t}`);
      else if (!derivesFrom(m, t, type)) issues.push(`${at}.@odata.type: ${t} does not derive from ${type}`);
      else actual = t;
    }
    for (const [key, x] of Object.entries(v as Record<string, unknown>)) {
      if (key.startsWith('@') || key.includes('@odata.') || key.includes('@microsoft.graph.')) continue;
      const p = property(m, actual, key);
      if (!p) {
        // Open complex types (identity and its kin) carry documented extras such as a drive
        // item's `createdBy.user.email` or a chat message sender's `tenantId`; entities may not.
        // fieldValueSet is the one entity made of dynamic properties: a list item's column
        // values, one property per column (https://learn.microsoft.com/graph/api/resources/fieldvalueset).
        const t = m.types.get(actual)!;
        const dynamic =
          DYNAMIC_ENTITIES.has(actual) && (x === null || typeof x !== 'object' || Array.isArray(x));
        if (!dynamic && !(t.open && !t.isEntity && (x === null || typeof x !== 'object')))
          issues.push(`${at}.${key}: not a property of ${actual}`);
        continue;
      }
      check(p.type, x, p.nullable, `${at}.${key}`);
    }
  };
  check(typeName, value, false, path);
  return issues;
}
