/**
 * The HTTP wrapper: a 500 is logged with its cause (name, code, message; never a stack), and a
 * response header value that the host cannot send is made sendable instead of becoming a 500.
 */
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { httpHandler } from '../../shared/http/handler';

function context(lines: string[]): InvocationContext {
  return new InvocationContext({
    functionName: 'test',
    invocationId: 'inv-1',
    logHandler: (_level, ...args) => lines.push(args.map(String).join(' ')),
  });
}
const request = () => new HttpRequest({ url: 'http://localhost/api/x', method: 'GET' });

test('a 500 is logged with its cause, and the response carries neither', async () => {
  const lines: string[] = [];
  const handler = httpHandler(async () => {
    const inner = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' });
    throw new Error('fetch failed', { cause: inner });
  });
  const res = (await handler(request(), context(lines))) as HttpResponseInit;
  expect(res.status).toBe(500);
  const body = JSON.stringify(res.jsonBody ?? res.body);
  expect(body).not.toContain('ECONNREFUSED');
  const logged = lines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.event === 'unhandled_error');
  expect(logged).toMatchObject({
    error: 'Error',
    message: 'fetch failed',
    cause: { error: 'Error', errorCode: 'ECONNREFUSED', message: 'connect ECONNREFUSED 10.0.0.1:443' },
  });
  expect(JSON.stringify(logged)).not.toContain('at ');
});

test('a response header with CR/LF or characters beyond Latin-1 is sent sanitised, not a 500', async () => {
  const lines: string[] = [];
  const handler = httpHandler(async () => ({
    status: 200,
    headers: { 'x-echo': 'a\r\nSet-Cookie: x=1 – ✓' },
    body: 'ok',
  }));
  const res = (await handler(request(), context(lines))) as HttpResponseInit;
  expect(res.status).toBe(200);
  const value = (res.headers as Record<string, string>)['x-echo']!;
  expect(value).toMatch(/^[\t\x20-\x7e\x80-\xff]*$/);
  expect(lines.join('\n')).toContain('response_header_sanitized');
});
