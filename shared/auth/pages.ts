/**
 * The small HTML pages the OAuth callback renders when there is no return URL to go back to.
 * No script at all, styles in a <style> element allowed by a hash-free `style-src 'self'
 * 'unsafe-inline'`-free policy: the CSP forbids every script and every external resource.
 */
import type { HttpResponseInit } from '@azure/functions';

export const PAGE_CSP =
  "default-src 'none'; style-src 'sha256-{STYLE}'; img-src 'none'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}h1{font-size:1.5rem}.ok{color:#0b6a0b}.err{color:#a4262c}code{background:#f3f3f3;padding:0 .25rem}';

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

function styleHash(): string {
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  return createHash('sha256').update(STYLE, 'utf8').digest('base64');
}

export function resultPage(
  status: number,
  kind: 'ok' | 'err',
  title: string,
  paragraphs: string[],
  code?: string,
  highlight?: { label: string; value: string },
): HttpResponseInit {
  const body = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1 class="${kind}">${escapeHtml(title)}</h1>
${paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n')}
${highlight ? `<p>${escapeHtml(highlight.label)}: <code id="completion-code">${escapeHtml(highlight.value)}</code></p>` : ''}
${code ? `<p>Reference code: <code>${escapeHtml(code)}</code></p>` : ''}
</main>
</body>
</html>`;
  return {
    status,
    body,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': PAGE_CSP.replace('{STYLE}', styleHash()),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    },
  };
}
