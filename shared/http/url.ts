/**
 * Decoding text that came from outside (a path Graph returned, a cursor a caller sent back, a route
 * segment): a malformed percent-escape (`%`, `%zz`) must never throw where nobody catches it.
 */

/** The decoded text, or undefined when it is not validly percent-encoded. */
export function tryDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** The decoded text, or the text as it is when it is not validly percent-encoded. */
export function decodeOrRaw(text: string): string {
  return tryDecode(text) ?? text;
}
