/**
 * HTML for the sign-in + consent page, the error page and the form_post response. Pages carry a
 * strict CSP: no script at all except the form_post auto-submit, which is allowed by its hash
 * (never 'unsafe-inline').
 */
import { createHash } from 'node:crypto';
import type { SandboxResponse } from '../http';
import type { SandboxUser } from '../state';

export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f2f2f2;color:#1b1b1b;margin:0}
main{max-width:440px;margin:48px auto;background:#fff;padding:32px 40px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
h1{font-size:1.5rem;margin:0 0 16px}h2{font-size:1rem;margin:24px 0 8px}
ul{padding-left:20px}li{margin:4px 0}code{font-size:.85em;color:#555}
fieldset{border:0;padding:0;margin:0}legend{font-weight:600;margin-bottom:8px}
label{display:block;margin:6px 0}.actions{display:flex;gap:12px;margin-top:24px;justify-content:flex-end}
button{font:inherit;padding:8px 20px;border:1px solid #8a8886;background:#fff;cursor:pointer}
button.primary{background:#0067b8;border-color:#0067b8;color:#fff}
button:focus-visible{outline:3px solid #1b1b1b;outline-offset:2px}.error{color:#a80000}
.small{font-size:.85rem;color:#605e5c}`;

const AUTOSUBMIT = 'document.forms[0].submit();';

function sha256(s: string): string {
  return `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;
}

/** [EMU]-adjacent hygiene for a login page: no framing, no inline script, forms only to us and the app. */
function securityHeaders(formTargets: string[], scriptHash?: string): Record<string, string> {
  const csp = [
    "default-src 'none'",
    `style-src ${sha256(STYLE)}`,
    scriptHash ? `script-src ${scriptHash}` : "script-src 'none'",
    `form-action 'self'${formTargets.length ? ' ' + formTargets.join(' ') : ''}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': csp,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  };
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

function origin(uri: string): string | undefined {
  try {
    return new URL(uri).origin;
  } catch {
    return undefined;
  }
}

export interface ConsentPageInput {
  action: string;
  requestId: string;
  appName: string;
  clientId: string;
  redirectUri: string;
  scopes: Array<{ scope: string; description: string }>;
  users: SandboxUser[];
  selectedUserId?: string;
  admin: boolean;
}

export function consentPage(input: ConsentPageInput): SandboxResponse {
  const title = input.admin
    ? 'Permissions requested – Accept for your organization'
    : 'Permissions requested';
  const users = input.users
    .map((u) => {
      const id = `user-${u.id}`;
      const checked = u.id === input.selectedUserId || (!input.selectedUserId && u === input.users[0]);
      return `<label for="${id}"><input type="radio" id="${id}" name="user" value="${escapeHtml(u.id)}"${checked ? ' checked' : ''} required> ${escapeHtml(u.displayName)} <span class="small">${escapeHtml(u.userPrincipalName)}</span></label>`;
    })
    .join('\n');
  const scopes = input.scopes
    .map((s) => `<li>${escapeHtml(s.description)} <code>${escapeHtml(s.scope)}</code></li>`)
    .join('\n');
  const body = `<h1>${escapeHtml(title)}</h1>
<p><strong>${escapeHtml(input.appName)}</strong> <span class="small">(${escapeHtml(input.clientId)})</span> wants to:</p>
<h2 id="scopes-heading">Requested permissions</h2>
<ul aria-labelledby="scopes-heading">
${scopes}
</ul>
<form method="post" action="${escapeHtml(input.action)}">
<input type="hidden" name="sandbox_request" value="${escapeHtml(input.requestId)}">
<fieldset>
<legend>${input.admin ? 'Sign in as an administrator' : 'Pick an account'}</legend>
${users || '<p class="error" role="alert">No account in the sandbox can sign in on this authority.</p>'}
</fieldset>
<p class="small">Accepting sends you back to <code>${escapeHtml(input.redirectUri)}</code>.</p>
<div class="actions">
<button type="submit" name="decision" value="cancel">Cancel</button>
<button type="submit" name="decision" value="accept" class="primary"${users ? '' : ' disabled'}>Accept</button>
</div>
</form>`;
  const target = origin(input.redirectUri);
  return {
    status: 200,
    headers: securityHeaders(target ? [target] : []),
    body: layout(title, body),
  };
}

export function errorPage(status: number, code: number, message: string, traceId: string): SandboxResponse {
  const body = `<h1>Sorry, but we’re having trouble signing you in.</h1>
<p class="error" role="alert">AADSTS${code}: ${escapeHtml(message)}</p>
<p class="small">Trace ID: ${escapeHtml(traceId)}</p>`;
  return { status, headers: securityHeaders([]), body: layout('Sign in – error', body) };
}

/** response_mode=form_post: a form that posts the response to the app, submitted by a hashed script. */
export function formPostPage(
  redirectUri: string,
  params: Record<string, string | undefined>,
): SandboxResponse {
  const inputs = Object.entries(params)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('\n');
  const body = `<h1>Continue to the application</h1>
<form method="post" action="${escapeHtml(redirectUri)}">
${inputs}
<noscript><button type="submit" class="primary">Continue</button></noscript>
</form>
<script>${AUTOSUBMIT}</script>`;
  const target = origin(redirectUri);
  return {
    status: 200,
    headers: securityHeaders(target ? [target] : [], sha256(AUTOSUBMIT)),
    body: layout('Working…', body),
  };
}
