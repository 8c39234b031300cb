/**
 * What the read-as-text actions (files.readText, mail.readAttachmentText) share: their slice
 * inputs, their output fields and the slice of a document's text they answer with. Extraction
 * itself is shared/content/text.ts.
 */
import { z } from 'zod';
import { untrusted, type UntrustedSource } from '../actions/output';
import {
  decodeTextCursor,
  encodeTextCursor,
  SUPPORTED,
  TEXT_FORMATS,
  textSlice,
  type DocumentText,
} from '../content/text';

/** How the actions describe what they read (in each action's description). */
export const READ_TEXT_RULES = `Supported: ${SUPPORTED}. Word and HTML headings become Markdown # lines (and are listed in headings), PDF pages are marked "--- page N ---", PowerPoint slides "--- slide N ---" with their title as a # heading and speaker notes, Excel sheets "--- sheet N: Name ---" with each row as | a | b |, links are kept. Long documents come in slices of maxChars: pass nextCursor as cursor for the rest. Other formats answer unsupported_media_type, a password-protected PDF or Office document content_encrypted; documents over 50 MB are refused (download them instead).`;

export const sliceInputFields = {
  maxChars: z
    .number()
    .int()
    .min(1000)
    .max(100_000)
    .optional()
    .describe('Characters per slice (default 20000).'),
  cursor: z.string().max(2000).optional().describe('nextCursor of the previous slice.'),
};

/** The output fields of a slice; the document's text and names are untrusted (`source`). */
export function sliceOutputFields(source: UntrustedSource) {
  return {
    name: untrusted(z.string(), source),
    format: z.enum(TEXT_FORMATS),
    pages: z
      .number()
      .nullable()
      .describe(
        'PDF pages, PowerPoint slides or Excel sheets (the text marks each: --- page N ---, --- slide N ---, --- sheet N: Name ---).',
      ),
    headings: z
      .array(untrusted(z.string(), source))
      .describe('Section headings in order (Word, HTML, Markdown).'),
    text: untrusted(z.string(), source),
    offset: z.number().describe('Where this slice starts in the whole text (characters).'),
    totalChars: z.number(),
    nextCursor: z.string().optional().describe('Present when more text follows: pass it as `cursor`.'),
  };
}

/** Where the asked-for slice starts (checked before any download: a cursor of another item is refused). */
export function sliceStart(input: { cursor?: string | undefined }, key: string): number {
  return input.cursor ? decodeTextCursor(input.cursor, key) : 0;
}

/** The slice of `doc` from `offset`, with a cursor tied to `key` when more follows. */
export function sliceOf(
  doc: DocumentText,
  name: string,
  key: string,
  offset: number,
  maxChars = 20_000,
): z.infer<z.ZodObject<ReturnType<typeof sliceOutputFields>>> {
  const { slice, next } = textSlice(doc.text, Math.min(offset, doc.text.length), maxChars);
  return {
    name,
    format: doc.format,
    pages: doc.pages,
    headings: doc.headings,
    text: slice,
    offset,
    totalChars: doc.text.length,
    ...(next !== undefined ? { nextCursor: encodeTextCursor(key, next) } : {}),
  };
}
