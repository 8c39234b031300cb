/**
 * Planner order hints (planner-order-hint-format.md): strings of characters 32–126 compared
 * ordinally. The service computes them; a client places an item by sending
 * `"<previous order hint> <next order hint>!"` (either side empty at an end, and either side may
 * itself be such a composed value), and the service stores a short value that sorts there. A value
 * the service gave out is accepted as it is; anything else is a 400.
 */

const LOW = 32; // ' '
const HIGH = 127; // one past '~'

/** A short string strictly between `a` and `b` (`b` empty: no upper bound). */
export function between(a: string, b: string): string {
  let out = '';
  let upperBound = b !== '';
  for (let i = 0; ; i++) {
    const lo = i < a.length ? a.charCodeAt(i) : LOW;
    const hi = upperBound && i < b.length ? b.charCodeAt(i) : HIGH;
    if (lo === hi) {
      out += String.fromCharCode(lo);
      continue;
    }
    const mid = Math.floor((lo + hi) / 2);
    // Never end on a space: a trailing space would read as a separator in a composed value.
    if (mid > lo && mid > LOW) return out + String.fromCharCode(mid);
    // Adjacent characters: keep `lo` and go on with no upper bound (anything longer sorts below b).
    out += String.fromCharCode(lo);
    upperBound = false;
  }
}

/**
 * The value the service stores for what a client sent, or undefined when the format is wrong.
 * `existing` are the hints the service gave out in this list (accepted as they are).
 */
export function serviceOrderHint(sent: string, existing: readonly string[]): string | undefined {
  if (sent.length === 0 || sent.length > 1000 || /[^\x20-\x7e]/.test(sent)) return undefined;
  if (!sent.endsWith('!')) return existing.includes(sent) ? sent : undefined;
  const resolved = resolve(sent.slice(0, -1));
  if (!resolved) return undefined;
  const [prev, next] = resolved;
  if (next !== '' && prev >= next) return undefined;
  return between(prev, next);
}

/**
 * `"<previous> <next>"` with either part possibly composed itself (ending in '!'). Tries each space
 * as the separator, left to right, and takes the first split whose parts both resolve.
 */
function resolve(body: string): [string, string] | undefined {
  for (let i = body.indexOf(' '); i !== -1; i = body.indexOf(' ', i + 1)) {
    const prev = part(body.slice(0, i));
    const next = part(body.slice(i + 1));
    if (prev !== undefined && next !== undefined) return [prev, next];
  }
  return undefined;
}

function part(text: string): string | undefined {
  if (text === '') return '';
  if (!text.endsWith('!')) return text.includes(' ') ? undefined : text;
  const inner = resolve(text.slice(0, -1));
  return inner ? between(inner[0], inner[1]) : undefined;
}
