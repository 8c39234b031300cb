/**
 * A small cookie-keeping browser for OAuth flows in tests: follows redirects one at a time (so a
 * test sees each hop), keeps cookies per host as a browser would (Path and Max-Age=0 honoured),
 * and submits the forms of the sandbox's Microsoft sign-in page and of our consent screen.
 * Headless Chromium drives the same pages in test/browser/.
 */

export interface Hop {
  url: string;
  status: number;
  location?: string;
  body: string;
}

function attribute(tag: string, name: string): string | undefined {
  const m = new RegExp(`${name}="([^"]*)"`, 'i').exec(tag);
  return m
    ? m[1]!
        .replace(/&amp;/g, '&')
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
    : undefined;
}

export class MiniBrowser {
  private readonly jar = new Map<string, Map<string, { value: string; path: string }>>();
  readonly hops: Hop[] = [];

  private cookieHeader(url: URL): string {
    const cookies = this.jar.get(url.host);
    if (!cookies) return '';
    return [...cookies.entries()]
      .filter(([, c]) => url.pathname.startsWith(c.path))
      .map(([k, c]) => `${k}=${c.value}`)
      .join('; ');
  }

  private remember(url: URL, res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const [name, ...v] = pair!.trim().split('=');
      const path =
        attrs
          .map((a) => a.trim())
          .find((a) => a.toLowerCase().startsWith('path='))
          ?.slice(5) ?? '/';
      const expired = attrs.some((a) => a.trim().toLowerCase() === 'max-age=0');
      const cookies = this.jar.get(url.host) ?? new Map();
      if (expired) cookies.delete(name!);
      else cookies.set(name!, { value: v.join('='), path });
      this.jar.set(url.host, cookies);
    }
  }

  /** Drops every cookie: a different browser. */
  forget(): void {
    this.jar.clear();
  }

  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Hop> {
    const target = new URL(url);
    const headers: Record<string, string> = {};
    const cookie = this.cookieHeader(target);
    if (cookie) headers.cookie = cookie;
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(target, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      headers,
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
      redirect: 'manual',
    });
    this.remember(target, res);
    const location = res.headers.get('location');
    const hop: Hop = {
      url,
      status: res.status,
      ...(location ? { location: new URL(location, target).toString() } : {}),
      body: await res.text(),
    };
    this.hops.push(hop);
    return hop;
  }

  /** Follows redirects until a page (non-3xx) or a URL `stopAt` says is the end (the client's redirect). */
  async follow(url: string, stopAt: (url: string) => boolean): Promise<Hop | { stoppedAt: string }> {
    let next = url;
    for (let i = 0; i < 10; i++) {
      if (stopAt(next)) return { stoppedAt: next };
      const hop = await this.request(next);
      if (!hop.location) return hop;
      next = hop.location;
    }
    throw new Error('too many redirects');
  }

  /** Submits the page's (first) form with its hidden fields plus `fields`. */
  async submit(page: Hop, fields: Record<string, string>): Promise<Hop> {
    const form = /<form[^>]*>/i.exec(page.body);
    if (!form) throw new Error(`no form on ${page.url}: ${page.body.slice(0, 300)}`);
    const action = new URL(attribute(form[0], 'action') ?? page.url, page.url).toString();
    const values: Record<string, string> = {};
    for (const input of page.body.match(/<input[^>]*type="hidden"[^>]*>/gi) ?? []) {
      const name = attribute(input, 'name');
      if (name) values[name] = attribute(input, 'value') ?? '';
    }
    return await this.request(action, { form: { ...values, ...fields } });
  }
}

/** The value of the sandbox sign-in page's radio button for `upn`. */
export function sandboxUserChoice(page: Hop, upn: string): string {
  const label = page.body.split('<label').find((l) => l.includes(upn));
  const value = label ? attribute(label, 'value') : undefined;
  if (!value) throw new Error(`the sign-in page offers no ${upn}`);
  return value;
}

/**
 * An MCP client's authorization URL through to the client's redirect: our authorize endpoint, the
 * sandbox's Microsoft sign-in (pick `upn`, accept), the callback, our consent screen (`decision`).
 * Returns the URL the browser was sent to at the end (the client's redirect URI with code or error).
 */
export async function authorizeInBrowser(
  browser: MiniBrowser,
  authorizationUrl: string,
  options: { upn: string; decision?: 'allow' | 'deny'; redirectPrefix: string },
): Promise<{ redirect?: string; consent?: Hop; page?: Hop }> {
  const isClient = (u: string) => u.startsWith(options.redirectPrefix);
  const signIn = await browser.follow(authorizationUrl, isClient);
  if ('stoppedAt' in signIn) return { redirect: signIn.stoppedAt };
  if (!signIn.body.includes('sandbox_request')) return { page: signIn };
  const afterSignIn = await browser.submit(signIn, {
    user: sandboxUserChoice(signIn, options.upn),
    decision: 'accept',
  });
  const consent = afterSignIn.location ? await browser.follow(afterSignIn.location, isClient) : afterSignIn;
  if ('stoppedAt' in consent) return { redirect: consent.stoppedAt };
  if (!consent.body.includes('name="completion"')) return { page: consent };
  const answered = await browser.submit(consent, { decision: options.decision ?? 'allow' });
  return answered.location ? { redirect: answered.location, consent } : { page: answered, consent };
}
