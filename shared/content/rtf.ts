/**
 * RTF as plain text (RTF 1.9.1 specification, Microsoft 2008): the visible text of the document
 * body, paragraphs as lines, table cells as `|`-separated, Unicode (`\uN` with its `\ucN`
 * fallback skipped) and code-page bytes (`\'hh` in the document's `\ansicpgN`) decoded; font,
 * colour and style tables, pictures, objects, field instructions and every `\*` destination left
 * out.
 *
 * Hand-written on purpose: the Node RTF libraries either stopped in 2017 (rtf-parser), need a
 * browser DOM (rtf.js) or only unwrap HTML/text that Outlook encapsulated in RTF
 * (rtf-stream-parser); this needs none of their rendering, only the text.
 */

/** Destinations whose content is not document text. */
const SKIPPED = new Set([
  'fonttbl',
  'colortbl',
  'stylesheet',
  'info',
  'pict',
  'object',
  'header',
  'headerl',
  'headerr',
  'headerf',
  'footer',
  'footerl',
  'footerr',
  'footerf',
  'listtable',
  'listoverridetable',
  'rsidtbl',
  'generator',
  'xmlnstbl',
  'themedata',
  'colorschememapping',
  'datastore',
  'latentstyles',
  'fldinst',
  'filetbl',
  'revtbl',
  'pgdsctbl',
  'operator',
  'author',
  'title',
  'subject',
  'keywords',
  'comment',
  'doccomm',
  'bkmkstart',
  'bkmkend',
  'nonshppict',
  'shpinst',
  'field_instruction',
]);

const WORD_TEXT: Record<string, string> = {
  par: '\n',
  line: '\n',
  sect: '\n\n',
  page: '\n\n',
  row: '\n',
  cell: ' | ',
  tab: '\t',
  emdash: '—',
  endash: '–',
  bullet: '•',
  lquote: '‘',
  rquote: '’',
  ldblquote: '“',
  rdblquote: '”',
  emspace: ' ',
  enspace: ' ',
  qmspace: ' ',
};

interface GroupState {
  skip: boolean;
  /** Fallback characters after \uN (\ucN). */
  uc: number;
}

function decoderFor(codePage: number): TextDecoder {
  try {
    return new TextDecoder(codePage === 65001 ? 'utf-8' : `windows-${codePage}`);
  } catch {
    return new TextDecoder('latin1');
  }
}

export function rtfToText(rtf: string): string {
  let out = '';
  let state: GroupState = { skip: false, uc: 1 };
  const stack: GroupState[] = [];
  let decoder = decoderFor(1252);
  let bytes: number[] = [];
  /** Fallback characters still to skip after a \uN. */
  let skipChars = 0;
  let groupStart = false;

  const flushBytes = () => {
    if (bytes.length) {
      out += decoder.decode(new Uint8Array(bytes));
      bytes = [];
    }
  };
  const emit = (text: string) => {
    if (state.skip) return;
    flushBytes();
    out += text;
  };

  let i = 0;
  while (i < rtf.length) {
    const ch = rtf[i]!;
    if (ch === '{') {
      flushBytes();
      stack.push(state);
      state = { ...state };
      groupStart = true;
      i++;
      continue;
    }
    if (ch === '}') {
      flushBytes();
      state = stack.pop() ?? { skip: false, uc: 1 };
      groupStart = false;
      i++;
      continue;
    }
    if (ch === '\\') {
      const next = rtf[i + 1] ?? '';
      if (/[a-zA-Z]/.test(next)) {
        const m = /^([a-zA-Z]{1,32})(-?\d{1,10})? ?/.exec(rtf.slice(i + 1, i + 50))!;
        const word = m[1]!;
        const param = m[2] === undefined ? undefined : Number(m[2]);
        i += 1 + m[0].length;
        const first = groupStart;
        groupStart = false;
        if (skipChars > 0) {
          skipChars--;
          continue;
        }
        if (first && SKIPPED.has(word)) {
          state.skip = true;
          continue;
        }
        if (word === 'ansicpg' && param !== undefined) decoder = decoderFor(param);
        else if (word === 'uc' && param !== undefined) state.uc = Math.max(0, param);
        else if (word === 'u' && param !== undefined) {
          emit(String.fromCharCode(param < 0 ? param + 65536 : param));
          skipChars = state.uc;
        } else if (WORD_TEXT[word] !== undefined) emit(WORD_TEXT[word]);
        continue;
      }
      groupStart = false;
      if (next === "'") {
        const hex = rtf.slice(i + 2, i + 4);
        i += 4;
        if (skipChars > 0) {
          skipChars--;
          continue;
        }
        if (!state.skip && /^[0-9a-fA-F]{2}$/.test(hex)) bytes.push(parseInt(hex, 16));
        continue;
      }
      i += 2;
      if (next === '*') {
        // An ignorable destination: the whole group is skipped unless understood (none here).
        state.skip = true;
        continue;
      }
      if (skipChars > 0) {
        skipChars--;
        continue;
      }
      if (next === '\\' || next === '{' || next === '}') emit(next);
      else if (next === '~') emit('\u00a0');
      else if (next === '_') emit('\u2011');
      else if (next === '\n' || next === '\r') emit('\n');
      // \- (optional hyphen) and others: nothing visible.
      continue;
    }
    groupStart = false;
    i++;
    // Line breaks in the source are not text; \par is.
    if (ch === '\n' || ch === '\r') continue;
    if (skipChars > 0) {
      skipChars--;
      continue;
    }
    emit(ch);
  }
  flushBytes();
  return out
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
