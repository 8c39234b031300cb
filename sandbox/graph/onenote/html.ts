/**
 * OneNote page HTML (https://learn.microsoft.com/graph/onenote-input-output-html and
 * onenote-update-page): what a page keeps of the input HTML, the output HTML a GET of its content
 * returns, and the PATCH commands that change it.
 *
 * - Input: `<title>` is the page title; the body's content goes into the page's first div (the
 *   default outline, `data-id="_default"`) unless the body has divs of its own; `id` attributes of
 *   the input are discarded; `data-id` values are kept.
 * - Output: every updatable element has a generated id (`p:{guid}{n}`), shown only with
 *   `includeIDs=true`; data-id values always.
 * - PATCH: an array of {target, action, position, content}; targets `body` (the first div),
 *   `title`, `#data-id` or a generated id; actions append / prepend (body, div, ol, ul), insert
 *   (siblings), replace (title; img/object by data-id or id; others by generated id only), per the
 *   "Supported elements and actions" table of onenote-update-page.md.
 */
import { randomUUID } from 'node:crypto';
import render from 'dom-serializer';
import type { ChildNode, Document, Element } from 'domhandler';
import { isTag } from 'domhandler';
import * as DomUtils from 'domutils';
import { parseDocument } from 'htmlparser2';

export interface PageHtml {
  title: string;
  /** The body's inner HTML as stored, generated ids included. */
  body: string;
  /** The page's GUID in generated ids, and the last number used. */
  guid: string;
  next: number;
}

export class PageHtmlError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const UPDATABLE = new Set([
  'div',
  'p',
  'ol',
  'ul',
  'li',
  'table',
  'img',
  'object',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
]);

function parse(html: string): Document {
  return parseDocument(html, { decodeEntities: true });
}

const elements = (nodes: ChildNode[]): Element[] => DomUtils.findAll(() => true, nodes);

/** Stamps generated ids on updatable elements that have none; drops input ids. */
function stampIds(nodes: ChildNode[], page: PageHtml, fromInput: boolean): void {
  for (const el of elements(nodes)) {
    if (fromInput) delete el.attribs.id;
    // Generated ids come first among the attributes, as in Graph's output HTML.
    if (UPDATABLE.has(el.name) && !el.attribs.id)
      el.attribs = { id: `${el.name}:{${page.guid}}{${page.next++}}`, ...el.attribs };
  }
}

/** A new page from the HTML of a create request. */
export function pageFromInput(html: string): PageHtml {
  const doc = parse(html);
  const titleEl = DomUtils.findOne((e) => e.name === 'title', doc.children);
  const bodyEl = DomUtils.findOne((e) => e.name === 'body', doc.children);
  const page: PageHtml = {
    title: titleEl ? DomUtils.textContent(titleEl).trim() : '',
    body: '',
    guid: randomUUID(),
    next: 1,
  };
  const content = bodyEl
    ? bodyEl.children
    : titleEl || DomUtils.findOne((e) => e.name === 'head', doc.children)
      ? []
      : doc.children;
  // Content outside any div goes into the default outline (the page's first div).
  const hasDiv = content.some((n) => isTag(n) && n.name === 'div');
  const wrapper = parse(
    '<div data-id="_default" style="position:absolute;left:48px;top:120px;width:624px"></div>',
  ).children[0] as Element;
  let nodes: ChildNode[];
  if (hasDiv) nodes = content;
  else {
    for (const n of [...content]) DomUtils.appendChild(wrapper, n);
    nodes = [wrapper];
  }
  stampIds(nodes, page, true);
  page.body = render(nodes, { decodeEntities: false });
  return page;
}

/** The page's output HTML (GET .../content), with generated ids when asked for. */
export function outputHtml(page: PageHtml, created: string, includeIds: boolean): string {
  const doc = parse(page.body);
  if (!includeIds) for (const el of elements(doc.children)) delete el.attribs.id;
  const title = escapeHtml(page.title);
  return [
    '<html lang="en-US">',
    '\t<head>',
    `\t\t<title>${title}</title>`,
    '\t\t<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />',
    `\t\t<meta name="created" content="${created}" />`,
    '\t</head>',
    '\t<body data-absolute-enabled="true" style="font-family:Calibri;font-size:11pt">',
    render(doc.children, { decodeEntities: false }),
    '\t</body>',
    '</html>',
  ].join('\n');
}

/** The page's text (search and previews). */
export function pageText(page: PageHtml): string {
  return DomUtils.textContent(parse(page.body).children).replace(/\s+/g, ' ').trim();
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export interface PatchCommand {
  target: string;
  action: 'append' | 'insert' | 'prepend' | 'replace';
  position?: 'after' | 'before';
  content: string;
}

const CHILD_HOLDERS = new Set(['div', 'ol', 'ul']);
const ACTIONS = new Set(['append', 'insert', 'prepend', 'replace']);

/** Validates the request body of PATCH .../content: an array of change objects. */
export function parseCommands(body: unknown): PatchCommand[] {
  if (!Array.isArray(body) || body.length === 0)
    throw new PageHtmlError('20121', 'The request body must be a non-empty JSON array of change objects.');
  return body.map((raw, i) => {
    const c = (raw ?? {}) as Record<string, unknown>;
    if (typeof c.target !== 'string' || !c.target)
      throw new PageHtmlError('20121', `Change ${i}: target is required.`);
    if (typeof c.action !== 'string' || !ACTIONS.has(c.action))
      throw new PageHtmlError('20121', `Change ${i}: action must be append, insert, prepend or replace.`);
    if (c.position !== undefined && c.position !== 'after' && c.position !== 'before')
      throw new PageHtmlError('20121', `Change ${i}: position must be after or before.`);
    if (typeof c.content !== 'string') throw new PageHtmlError('20121', `Change ${i}: content is required.`);
    return {
      target: c.target,
      action: c.action as PatchCommand['action'],
      ...(c.position ? { position: c.position } : {}),
      content: c.content,
    };
  });
}

/** Applies change objects in order; all or nothing. */
export function applyCommands(page: PageHtml, commands: PatchCommand[]): PageHtml {
  const next: PageHtml = { ...page };
  const doc = parse(page.body);
  for (const cmd of commands) {
    if (cmd.target === 'title') {
      if (cmd.action !== 'replace')
        throw new PageHtmlError('20124', 'The title supports only the replace action.');
      next.title = DomUtils.textContent(parse(cmd.content).children).trim();
      continue;
    }
    const byDataId = cmd.target.startsWith('#');
    const target =
      cmd.target === 'body'
        ? DomUtils.findOne((e) => e.name === 'div', doc.children)
        : DomUtils.findOne(
            (e) => (byDataId ? e.attribs['data-id'] === cmd.target.slice(1) : e.attribs.id === cmd.target),
            doc.children,
          );
    if (!target) throw new PageHtmlError('20125', `The target '${cmd.target}' was not found on the page.`);
    const fresh = parse(cmd.content).children;
    stampIds(fresh, next, true);
    const before = cmd.position === 'before';
    const isBody = cmd.target === 'body';
    if (cmd.action === 'append' || cmd.action === 'prepend') {
      if (!CHILD_HOLDERS.has(target.name))
        throw new PageHtmlError(
          '20124',
          `Append applies only to body, div, ol and ul elements, not ${target.name}.`,
        );
      const first = cmd.action === 'prepend' || before;
      if (first) for (const n of [...fresh].reverse()) DomUtils.prependChild(target, n);
      else for (const n of fresh) DomUtils.appendChild(target, n);
    } else if (cmd.action === 'insert') {
      if (isBody)
        throw new PageHtmlError('20124', 'Insert needs a sibling target: body supports append only.');
      if (before) for (const n of fresh) DomUtils.prepend(target, n);
      else for (const n of [...fresh].reverse()) DomUtils.append(target, n);
    } else {
      if (isBody) throw new PageHtmlError('20124', 'body cannot be replaced.');
      // Replace needs the generated id, except for images and objects (data-id works too).
      if (byDataId && target.name !== 'img' && target.name !== 'object')
        throw new PageHtmlError(
          '20124',
          `Replacing a ${target.name} needs its generated id (GET the content with includeIDs=true), not its data-id.`,
        );
      const [first, ...rest] = fresh;
      if (!first) {
        DomUtils.removeElement(target);
        continue;
      }
      DomUtils.replaceElement(target, first);
      let last: ChildNode = first;
      for (const n of rest) {
        DomUtils.append(last, n);
        last = n;
      }
    }
  }
  next.body = render(doc.children, { decodeEntities: false });
  return next;
}
