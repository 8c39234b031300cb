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

export interface ConsentPage {
  clientName: string;
  /** Where the client lives (its metadata URL or its redirect's host): how a user tells clients apart. */
  clientFrom: string;
  username: string;
  readWrite: boolean;
  features: string[];
  formAction: string;
  /** The origin (or scheme) the form's answer redirects to: CSP form-action covers redirects. */
  redirectTarget: string;
  fields: Record<string, string>;
}

/**
 * The MCP authorization consent screen (shared/mcp/oauth/flow.ts): names the client, where it
 * sends the answer, the Microsoft account and what the client may do; Allow or Deny post back.
 */
export function consentPage(page: ConsentPage): HttpResponseInit {
  const hidden = Object.entries(page.fields)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('\n');
  const access = page.readWrite
    ? 'it can read your mail, events, files and messages, and send mail, create and change events, files, messages and tasks on your behalf'
    : 'it can read your mail, events, files, messages, contacts and tasks, and cannot send, create, change or delete anything';
  const body = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Allow ${escapeHtml(page.clientName)} to use Microsoft 365?</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>Allow <span id="client-name">${escapeHtml(page.clientName)}</span> to use your Microsoft 365?</h1>
<p>An MCP client calling itself <strong>${escapeHtml(page.clientName)}</strong> (<code id="client-from">${escapeHtml(page.clientFrom)}</code>) asks to use the Microsoft 365 account <strong id="account">${escapeHtml(page.username)}</strong>.</p>
<p id="access">It may <strong>${page.readWrite ? 'read and write' : 'read only'}</strong>: ${escapeHtml(access)} (${escapeHtml(page.features.join(', '))}).</p>
<p>Only allow clients you started connecting yourself. You can revoke it at any time.</p>
<form method="post" action="${escapeHtml(page.formAction)}">
${hidden}
<button type="submit" name="decision" value="allow" id="allow">Allow</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button>
</form>
</main>
</body>
</html>`;
  const csp = PAGE_CSP.replace('{STYLE}', styleHash()).replace(
    "form-action 'none'",
    `form-action 'self' ${page.redirectTarget}`,
  );
  return {
    status: 200,
    body,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': csp,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    },
  };
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
