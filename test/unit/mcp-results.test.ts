/** Tool results and dry runs as a model sees them, and the change-feed URIs. */
import { Problem } from '../../shared/http/problem';
import { targetIds } from '../../shared/mcp/call';
import { changesUri, parseChangesUri } from '../../shared/mcp/changes';
import { dryRunResult, MAX_TEXT_CHARS, problemResult, successResult } from '../../shared/mcp/results';

test('a page renders its count and how to get more; structured content is the output itself', () => {
  const page = { items: [{ id: 'a' }, { id: 'b' }], nextCursor: 'c1' };
  const result = successResult('mail.listMessages', page);
  expect(result.structuredContent).toEqual(page);
  expect(result.content[0]).toMatchObject({ type: 'text' });
  const text = (result.content[0] as { text: string }).text;
  expect(text.split('\n')[0]).toBe(
    'mail.listMessages: 2 item(s). More are available: call again with "cursor" set to nextCursor.',
  );
  expect(JSON.parse(text.split('\n')[1]!)).toEqual(page);
  const last = successResult('mail.listMessages', { items: [] });
  expect((last.content[0] as { text: string }).text).toMatch(
    /^mail\.listMessages: 0 item\(s\)\. This is the last page\./,
  );
});

test('non-object outputs are wrapped; long text is cut while structured content stays whole', () => {
  expect(successResult('x.list', [1, 2]).structuredContent).toEqual({ result: [1, 2] });
  const big = { blob: 'x'.repeat(MAX_TEXT_CHARS * 2) };
  const result = successResult('x.get', big);
  expect(result.structuredContent).toEqual(big);
  const text = (result.content[0] as { text: string }).text;
  expect(text.length).toBeLessThan(MAX_TEXT_CHARS + 200);
  expect(text).toMatch(/cut; the full result is in the structured content\)$/);
});

test('a problem is a tool error with the HTTP problem body and hints for the model', () => {
  const reauth = problemResult(
    new Problem('reauth_required', 'Sign in again.', { authorizationUrl: 'https://login.example/x' }),
    'req-1',
  );
  expect(reauth.isError).toBe(true);
  // No structuredContent (clients hold it to the success schema): the body is the second text block.
  expect(reauth.structuredContent).toBeUndefined();
  expect(JSON.parse((reauth.content[1] as { text: string }).text)).toMatchObject({
    code: 'reauth_required',
    status: 401,
    detail: 'Sign in again.',
    authorizationUrl: 'https://login.example/x',
    requestId: 'req-1',
    type: 'https://errors.m365-integration.dev/reauth_required',
  });
  expect((reauth.content[0] as { text: string }).text).toBe(
    'reauth_required: Sign in again.\nSend the user to this URL to fix it: https://login.example/x',
  );
  const throttled = problemResult(new Problem('throttled', 'Slow down.', { retryAfter: 7 }));
  expect((throttled.content[0] as { text: string }).text).toContain('Retry after 7 s.');
  const invalid = problemResult(
    new Problem('invalid_input', 'Fix these fields: top.', {
      errors: [{ field: 'top', message: 'too big' }],
    }),
  );
  expect((invalid.content[0] as { text: string }).text).toContain('Fields: top too big.');
});

test('target ids are the id-like inputs; a dry run names the action and them', () => {
  expect(
    targetIds({
      id: 'm1',
      eventId: 'e1',
      itemIds: ['a', 'b'],
      permanent: true,
      comment: 'bye',
      mailbox: 'x@y',
    }),
  ).toEqual({ id: 'm1', eventId: 'e1', itemIds: ['a', 'b'] });
  const dry = dryRunResult('calendar.cancelEvent', 'Cancel a meeting', { eventId: 'e1' });
  expect(dry.isError).toBeUndefined();
  expect(dry.structuredContent).toMatchObject({
    dryRun: true,
    changed: false,
    action: 'calendar.cancelEvent',
    targetIds: { eventId: 'e1' },
  });
  expect((dry.content[0] as { text: string }).text).toBe(
    'Dry run, nothing changed. calendar.cancelEvent would: Cancel a meeting (eventId e1). Ask the user; to do it, call again with the same arguments and "confirm": true.',
  );
});

test('change-feed URIs: base, after, service; anything else is not the feed or is invalid', () => {
  expect(parseChangesUri('m365://changes')).toEqual({});
  expect(parseChangesUri('m365://changes?after=42&service=mail')).toEqual({ after: 42, service: 'mail' });
  expect(parseChangesUri('m365://mail')).toBeNull();
  expect(parseChangesUri('https://changes')).toBeNull();
  expect(() => parseChangesUri('m365://changes?after=-1')).toThrow(Problem);
  expect(() => parseChangesUri('m365://changes?colour=red')).toThrow(/invalid_input/);
  expect(changesUri('42', 'files')).toBe('m365://changes?after=42&service=files');
  expect(parseChangesUri(changesUri('7'))).toEqual({ after: 7 });
});
