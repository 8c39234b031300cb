/**
 * Text a model writes, made into HTML another service will store: Markdown through `marked`
 * (CommonMark and GitHub tables, maintained, no dependencies) and any HTML through `sanitize-html`
 * (an allow-list of tags and attributes; scripts, styles, event handlers and `javascript:` links
 * dropped). Both load on first use only, like the other content libraries.
 */

/** The tags and attributes OneNote keeps (onenote-input-output-html.md), nothing executable. */
const ALLOWED_TAGS = [
  'p',
  'br',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'b',
  'strong',
  'i',
  'em',
  'u',
  's',
  'del',
  'sub',
  'sup',
  'span',
  'a',
  'ul',
  'ol',
  'li',
  'table',
  'thead',
  'tbody',
  'tr',
  'td',
  'th',
  'pre',
  'code',
  'blockquote',
  'cite',
  'img',
  'div',
  'hr',
];

/** Markdown → HTML. */
export function markdownToHtml(markdown: string): string {
  const { marked } = require('marked') as typeof import('marked');
  return marked.parse(markdown, { async: false, gfm: true });
}

/** HTML from outside → HTML safe to store: allowed tags only, links and images over http(s). */
export function sanitizeHtml(html: string): string {
  const sanitize = require('sanitize-html') as typeof import('sanitize-html');
  return sanitize(html, {
    allowedTags: ALLOWED_TAGS,
    allowedAttributes: {
      a: ['href', 'title'],
      img: ['src', 'alt', 'width', 'height'],
      td: ['colspan', 'rowspan'],
      th: ['colspan', 'rowspan'],
      '*': ['data-id', 'data-tag'],
    },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['https'] },
  });
}

/** Escapes text for an HTML text node or attribute. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
