/**
 * Planner's versioning (planner-overview.md, "Planner resource versioning" and "Common Planner error
 * conditions"): every resource carries `@odata.etag`; PATCH and DELETE need the last etag the
 * client knows in `If-Match` (without it: 400). Planner "allows changes to older versions of
 * resources, if the intended change does not conflict with newer changes": an older etag of the
 * resource is accepted when none of the properties the request changes has changed since (409
 * otherwise); an etag that is no version of the resource answers 412. Etags of one resource compare
 * ordinally (newer is greater); etags of different resources cannot be compared.
 *
 * The versions live on the entity under a hidden `__versions` field, stripped when rendered.
 */
import { badRequest, GraphHttpError } from '../errors';
import type { Entity } from '../store';

export interface Versions {
  /** The current version. */
  v: number;
  /** Per property: the version that last changed it. */
  changed: Record<string, number>;
}

export const VERSIONS = '__versions';

/** An etag that sorts ordinally by version: `W/"JzEt{kind}{version, 12 digits}"`. */
export function etagOf(kind: string, v: number): string {
  return `W/"JzEt${kind}${String(v).padStart(12, '0')}"`;
}

export function versionsOf(entity: Entity): Versions {
  return (entity[VERSIONS] as Versions | undefined) ?? { v: 1, changed: {} };
}

/** The first version of a new resource. */
export function firstVersion(): Versions {
  return { v: 1, changed: {} };
}

/** The versions after a change to `fields`. */
export function bump(entity: Entity, fields: Iterable<string>): Versions {
  const current = versionsOf(entity);
  const v = current.v + 1;
  const changed = { ...current.changed };
  for (const f of fields) changed[f] = v;
  return { v, changed };
}

/**
 * Checks `If-Match` for a change to `fields` of a resource (`'*'` for a delete: any newer change
 * conflicts). Throws 400 without the header, 412 for an etag that is no version of the resource,
 * 409 for an older version whose change conflicts with a newer one.
 */
export function checkIfMatch(
  header: string | undefined,
  kind: string,
  entity: Entity,
  fields: readonly string[] | '*',
): void {
  if (!header) {
    throw badRequest('planner', 'The If-Match header must be specified for this kind of request.');
  }
  const current = versionsOf(entity);
  const m = new RegExp(`^W/"JzEt${kind}(\\d{12})"$`).exec(header.trim());
  const v = m ? Number(m[1]) : NaN;
  if (!Number.isInteger(v) || v < 1 || v > current.v) {
    throw new GraphHttpError(
      412,
      '',
      'The request is not valid: the If-Match header does not match a version of the item. Read the item again to get its current etag.',
    );
  }
  if (v === current.v) return;
  const conflicting =
    fields === '*'
      ? Object.values(current.changed).some((at) => at > v)
      : fields.some((f) => (current.changed[f] ?? 0) > v);
  if (conflicting) {
    throw new GraphHttpError(
      409,
      '',
      'The item was changed since the version given in If-Match, and the change conflicts with it. Read the item again and reapply the change.',
    );
  }
}
