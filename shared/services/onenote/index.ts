/**
 * OneNote actions (https://learn.microsoft.com/graph/integrate-with-onenote): notebooks, sections,
 * pages found by section or title, a page read as text (and HTML), pages created and appended to
 * from Markdown or HTML, and deleted.
 *
 * OneNote stores pages as HTML: what a model writes in Markdown becomes HTML through `marked`, and
 * any HTML (given or produced) is sanitized to OneNote's tags before it is sent (shared/content/
 * markup.ts): no scripts, styles, event handlers or non-http(s) links reach the user's notebook.
 * Reading a page gives its text (html-to-text), which is what a model needs; `format: html` adds
 * the HTML. Appending adds to the end of the page's first outline (PATCH .../content, target body).
 */
import { z } from 'zod';
import { deletedOf, pageOf, untrusted } from '../../actions/output';
import { decodeCursor, toPage } from '../../actions/cursor';
import { defineAction } from '../../actions/registry';
import type { ActionContext } from '../../actions/types';
import { escapeHtml, markdownToHtml, sanitizeHtml } from '../../content/markup';
import { htmlToText } from '../../content/text';
import type { GraphError } from '../../graph/errors';
import { seg } from '../../graph/client';
import { odataString } from '../../graph/odata';
import { Problem } from '../../http/problem';

// Notes.ReadWrite: read and write the user's notebooks (no admin consent; personal accounts too).
const SCOPES = ['Notes.ReadWrite'];

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' ? (v as Json) : {});
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

const oneNoteId = (what: string) =>
  z
    .string()
    .min(1)
    .max(300)
    .regex(/^[A-Za-z0-9!_.-]+$/, 'must be a OneNote id (as listed)')
    .describe(what);
const notebookId = oneNoteId('The notebook id (from onenote.listNotebooks).');
const sectionId = oneNoteId('The section id (from onenote.listSections).');
const pageId = oneNoteId('The page id (from onenote.listPages).');
const top = z.number().int().min(1).max(100).default(20).describe('Page size, 1–100 (default 20).');
const cursor = z.string().max(4096).optional().describe('nextCursor of the previous page, to continue.');

const content = {
  markdown: z
    .string()
    .max(500_000)
    .optional()
    .describe('The content as Markdown (headings, lists, tables, links).'),
  html: z
    .string()
    .max(500_000)
    .optional()
    .describe('The content as HTML instead of Markdown (sanitized: no scripts, styles or event handlers).'),
};
const oneOfContent = <T extends { markdown?: string | undefined; html?: string | undefined }>(v: T) =>
  (v.markdown === undefined) !== (v.html === undefined);
const contentRule = { message: 'give exactly one of markdown or html', path: ['markdown'] };

/** The page content a model sent, as HTML OneNote may store. */
function bodyHtml(input: { markdown?: string | undefined; html?: string | undefined }): string {
  return sanitizeHtml(input.markdown !== undefined ? markdownToHtml(input.markdown) : (input.html ?? ''));
}

function oneNoteError(err: GraphError): Problem | undefined {
  const info = { graphStatus: err.status, graphCode: err.code };
  if (err.status === 404) return new Problem('not_found', 'No such notebook, section or page.', info);
  if (err.status === 409)
    return new Problem('conflict', 'A notebook or section of that name exists already.', info);
  if (err.status === 400 && err.code === '20115')
    return new Problem('invalid_input', `OneNote refused the name: ${err.message}`, {
      ...info,
      errors: [{ field: 'name', message: err.message }],
    });
  return undefined;
}

const webUrl = (v: Json) => str(obj(obj(v.links).oneNoteWebUrl).href);

const NotebookOut = z.object({
  id: z.string(),
  name: untrusted(z.string(), 'file'),
  isDefault: z.boolean(),
  createdAt: z.string().nullable(),
  lastModifiedAt: z.string().nullable(),
  webUrl: z.string().nullable(),
});
const toNotebook = (n: Json): z.infer<typeof NotebookOut> => ({
  id: String(n.id),
  name: str(n.displayName) ?? '',
  isDefault: n.isDefault === true,
  createdAt: str(n.createdDateTime),
  lastModifiedAt: str(n.lastModifiedDateTime),
  webUrl: webUrl(n),
});

const SectionOut = z.object({
  id: z.string(),
  name: untrusted(z.string(), 'file'),
  notebookId: z.string().nullable(),
  notebookName: untrusted(z.string().nullable(), 'file'),
  sectionGroup: untrusted(z.string().nullable(), 'file').describe('The section group it is in, if any.'),
  webUrl: z.string().nullable(),
});
const toSection = (s: Json): z.infer<typeof SectionOut> => ({
  id: String(s.id),
  name: str(s.displayName) ?? '',
  notebookId: str(obj(s.parentNotebook).id),
  notebookName: str(obj(s.parentNotebook).displayName),
  sectionGroup: str(obj(s.parentSectionGroup).displayName),
  webUrl: webUrl(s),
});

const PageOut = z.object({
  id: z.string(),
  title: untrusted(z.string(), 'file'),
  sectionId: z.string().nullable(),
  sectionName: untrusted(z.string().nullable(), 'file'),
  createdAt: z.string().nullable(),
  lastModifiedAt: z.string().nullable(),
  webUrl: z.string().nullable(),
});
const toPageInfo = (p: Json): z.infer<typeof PageOut> => ({
  id: String(p.id),
  title: str(p.title) ?? '',
  sectionId: str(obj(p.parentSection).id),
  sectionName: str(obj(p.parentSection).displayName),
  createdAt: str(p.createdDateTime),
  lastModifiedAt: str(p.lastModifiedDateTime),
  webUrl: webUrl(p),
});

// https://learn.microsoft.com/graph/api/onenote-list-notebooks
defineAction({
  id: 'onenote.listNotebooks',
  service: 'onenote',
  summary: 'List the user’s OneNote notebooks',
  description: 'Lists the user’s OneNote notebooks {id, name, isDefault, lastModifiedAt, webUrl}.',
  input: z.object({}).strict(),
  output: z.object({ items: z.array(NotebookOut) }),
  feature: 'onenote',
  scopes: SCOPES,
  kind: 'read',
  idempotent: true,
  toGraph: () => ({ method: 'GET', url: '/me/onenote/notebooks', query: { $top: 100 } }),
  fromGraph: (res) => ({ items: ((obj(res.body).value as Json[] | undefined) ?? []).map(toNotebook) }),
  mapError: oneNoteError,
});

// https://learn.microsoft.com/graph/api/notebook-list-sections, onenote-list-sections
defineAction({
  id: 'onenote.listSections',
  service: 'onenote',
  summary: 'List OneNote sections',
  description:
    'Lists the sections of a notebook (notebookId), or every section of the user’s notebooks, section groups included: {id, name, notebookId, notebookName, sectionGroup, webUrl}. Pages are created in a section.',
  input: z.object({ notebookId: notebookId.optional() }).strict(),
  output: z.object({ items: z.array(SectionOut) }),
  feature: 'onenote',
  scopes: SCOPES,
  kind: 'read',
  idempotent: true,
  toGraph: (input, ctx) => {
    if (input.notebookId) ctx.targets.push(input.notebookId);
    return {
      method: 'GET',
      url: input.notebookId
        ? `/me/onenote/notebooks/${seg(input.notebookId)}/sections`
        : '/me/onenote/sections',
      query: { $top: 100 },
    };
  },
  fromGraph: (res) => ({ items: ((obj(res.body).value as Json[] | undefined) ?? []).map(toSection) }),
  mapError: oneNoteError,
});

// https://learn.microsoft.com/graph/api/section-list-pages, onenote-list-pages
defineAction({
  id: 'onenote.listPages',
  service: 'onenote',
  summary: 'List or find OneNote pages',
  description:
    'Lists pages, newest first: of a section (sectionId), or of every notebook; titleContains finds pages by title (case-insensitive). Each page has id, title, section and times. Read one with onenote.getPage.',
  input: z
    .object({
      sectionId: sectionId.optional(),
      titleContains: z.string().min(1).max(200).optional().describe('Only pages whose title contains this.'),
      top,
      cursor,
    })
    .strict(),
  output: pageOf(PageOut),
  feature: 'onenote',
  scopes: SCOPES,
  kind: 'read',
  idempotent: true,
  run: async (input, ctx) => {
    if (input.sectionId) ctx.targets.push(input.sectionId);
    const url = input.sectionId ? `/me/onenote/sections/${seg(input.sectionId)}/pages` : '/me/onenote/pages';
    const call = input.cursor
      ? { method: 'GET' as const, url: decodeCursor('onenote.listPages', input.cursor) }
      : {
          method: 'GET' as const,
          url,
          query: {
            $top: input.top,
            ...(input.titleContains
              ? { $filter: `contains(tolower(title),${odataString(input.titleContains.toLowerCase())})` }
              : {}),
          },
        };
    const res = await ctx.graph(call);
    return toPage('onenote.listPages', res.body, toPageInfo);
  },
  mapError: oneNoteError,
});

const PageWithContent = PageOut.extend({
  text: untrusted(z.string(), 'file').describe('The page as text: paragraphs, lists and tables kept.'),
  html: untrusted(z.string(), 'file').nullable().describe('The page HTML, with format html.'),
});

async function readPage(
  ctx: ActionContext,
  id: string,
  html: boolean,
): Promise<z.infer<typeof PageWithContent>> {
  const [meta, content] = await Promise.all([
    ctx.graph({ method: 'GET', url: `/me/onenote/pages/${seg(id)}` }),
    ctx.graph({ method: 'GET', url: `/me/onenote/pages/${seg(id)}/content` }),
  ]);
  const markup =
    typeof content.body === 'string'
      ? content.body
      : Buffer.from(content.body as ArrayBuffer).toString('utf8');
  // The page's body, without the head (its title is the page title already).
  const body = /<body[^>]*>([\s\S]*)<\/body>/i.exec(markup)?.[1] ?? markup;
  return { ...toPageInfo(obj(meta.body)), text: htmlToText(body).text, html: html ? markup : null };
}

// https://learn.microsoft.com/graph/api/page-get
defineAction({
  id: 'onenote.getPage',
  service: 'onenote',
  summary: 'Read a OneNote page as text',
  description:
    'Reads a page: its title, section and times, and its content as text (format text, the default) or also as HTML (format html).',
  input: z
    .object({
      pageId,
      format: z.enum(['text', 'html']).default('text').describe('text (default) or html (text and HTML).'),
    })
    .strict(),
  output: PageWithContent,
  feature: 'onenote',
  scopes: SCOPES,
  kind: 'read',
  idempotent: true,
  run: async (input, ctx) => {
    ctx.targets.push(input.pageId);
    return await readPage(ctx, input.pageId, input.format === 'html');
  },
  mapError: oneNoteError,
});

// https://learn.microsoft.com/graph/api/section-post-pages
defineAction({
  id: 'onenote.createPage',
  service: 'onenote',
  summary: 'Create a OneNote page from Markdown or HTML',
  description:
    'Creates a page in a section with a title and content written in Markdown (or HTML, sanitized). Returns the page. Send an Idempotency-Key header to make retries safe.',
  input: z
    .object({ sectionId, title: z.string().trim().min(1).max(255).describe('The page title.'), ...content })
    .strict()
    .refine(oneOfContent, contentRule),
  output: PageOut,
  feature: 'onenote',
  scopes: SCOPES,
  kind: 'write',
  idempotent: false,
  idempotencyKey: true,
  successStatus: 201,
  run: async (input, ctx) => {
    ctx.targets.push(input.sectionId);
    const html = `<!DOCTYPE html><html><head><title>${escapeHtml(input.title)}</title></head><body>${bodyHtml(input)}</body></html>`;
    const res = await ctx.graph({
      method: 'POST',
      url: `/me/onenote/sections/${seg(input.sectionId)}/pages`,
      body: html,
      headers: { 'Content-Type': 'text/html' },
    });
    const page = toPageInfo(obj(res.body));
    ctx.targets.push(page.id);
    return page;
  },
  mapError: oneNoteError,
});

// https://learn.microsoft.com/graph/api/page-update (target body, action append)
defineAction({
  id: 'onenote.appendToPage',
  service: 'onenote',
  summary: 'Add Markdown or HTML to the end of a OneNote page',
  description:
    'Adds content written in Markdown (or HTML, sanitized) at the end of a page’s first outline. Returns the page with its text.',
  input: z
    .object({ pageId, ...content })
    .strict()
    .refine(oneOfContent, contentRule),
  output: PageWithContent,
  feature: 'onenote',
  scopes: SCOPES,
  kind: 'write',
  idempotent: false,
  run: async (input, ctx) => {
    ctx.targets.push(input.pageId);
    await ctx.graph({
      method: 'PATCH',
      url: `/me/onenote/pages/${seg(input.pageId)}/content`,
      body: [{ target: 'body', action: 'append', content: bodyHtml(input) }],
    });
    return await readPage(ctx, input.pageId, false);
  },
  mapError: oneNoteError,
});

// https://learn.microsoft.com/graph/api/page-delete
defineAction({
  id: 'onenote.deletePage',
  service: 'onenote',
  summary: 'Delete a OneNote page',
  description: 'Deletes a page. Returns {pageId, deleted: true}.',
  input: z.object({ pageId }).strict(),
  output: deletedOf('pageId'),
  feature: 'onenote',
  scopes: SCOPES,
  kind: 'destructive',
  idempotent: true,
  toGraph: (input, ctx) => {
    ctx.targets.push(input.pageId);
    return { method: 'DELETE', url: `/me/onenote/pages/${seg(input.pageId)}` };
  },
  fromGraph: (_res, input) => ({ pageId: input.pageId, deleted: true as const }),
  mapError: oneNoteError,
});
