/**
 * Opaque list cursors. A cursor wraps Graph's `@odata.nextLink` (used verbatim, reference §4.1)
 * and the action it belongs to. A cursor whose link does not lead back to GRAPH_BASE_URL is
 * refused, so a caller cannot make us send the user's token anywhere else.
 */
import { graphBase } from '../graph/client';
import { Problem } from '../http/problem';
import { tryDecode } from '../http/url';
import type { Page } from './types';

interface CursorBody {
  a: string;
  u: string;
}

export function encodeCursor(actionId: string, nextLink: string): string {
  return Buffer.from(JSON.stringify({ a: actionId, u: nextLink } satisfies CursorBody), 'utf8').toString(
    'base64url',
  );
}

function badCursor(): Problem {
  return new Problem('invalid_input', 'cursor is not a cursor this action returned.', {
    errors: [
      {
        field: 'cursor',
        message: 'is not valid for this action; pass the nextCursor of a previous page unchanged',
      },
    ],
  });
}

/** The Graph URL a cursor stands for, after checking it belongs to this action and to Graph. */
export function decodeCursor(actionId: string, cursor: string): string {
  let body: CursorBody;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as CursorBody;
  } catch {
    throw badCursor();
  }
  if (typeof body?.u !== 'string' || body.a !== actionId || !URL.canParse(body.u)) throw badCursor();
  const base = new URL(`${graphBase()}/`);
  const url = new URL(body.u);
  if (
    url.origin !== base.origin ||
    !url.pathname.startsWith(base.pathname) ||
    url.username ||
    url.password ||
    tryDecode(url.pathname) === undefined // a forged path with a malformed escape
  ) {
    throw badCursor();
  }
  return url.toString();
}

/** Maps a Graph collection page to our page shape with an opaque cursor. */
export function toPage<T>(
  actionId: string,
  body: unknown,
  map: (item: Record<string, unknown>) => T,
): Page<T> {
  const b = (body ?? {}) as { value?: unknown[]; '@odata.nextLink'?: string };
  const items = (Array.isArray(b.value) ? b.value : []).map((v) => map(v as Record<string, unknown>));
  const next = b['@odata.nextLink'];
  return { items, ...(typeof next === 'string' ? { nextCursor: encodeCursor(actionId, next) } : {}) };
}
