/**
 * `npm run demo` (scripts/demo.ts) run in-process: on a fresh start every step of the tour
 * passes, and the output shows what a newcomer should see (the sign-in redirect, the meeting
 * slot, the shared link, the webhook deliveries and the change feed). A step that fails stops the
 * tour with the problem code and request id and makes the result (and so the exit code) a failure.
 */
import { runDemo } from '../../scripts/demo';
import { injectFault } from '../support/sandbox';

function capture() {
  let text = '';
  return {
    out: { write: (s: string) => (text += s) },
    text: () => text,
  };
}

test('the whole tour passes and shows each step, the notifications and the change feed', async () => {
  const { out, text } = capture();
  const result = await runDemo({ out });
  expect(result.steps.filter((s) => !s.ok)).toEqual([]);
  expect(result.ok).toBe(true);
  expect(result.steps).toHaveLength(9);
  const output = text();
  expect(output).toMatch(/GET authorize → 302 to \/api\/auth\/microsoft\/callback/);
  expect(output).toContain('GET callback → 200 "One step left: confirm in the app"');
  // Every change-feed entry says which of the demo's writes caused it.
  expect(output).toMatch(/mail +created +"Launch review: agenda attached" +← the mail sent in step 3/);
  expect(output).toMatch(/todo +created +"Send the launch review minutes" +← the task created in step 7/);
  expect(output).toMatch(/sendMessage → sent .*agenda\.txt/);
  expect(output).toMatch(/findMeetingTimes .*→ \d+ slot\(s\)/);
  expect(output).toMatch(/createEvent → 201 "Launch review"/);
  expect(output).toMatch(/createLink → view link .*https:\/\//);
  expect(output).toMatch(/sendChannelMessage → posted to Contoso Launch › General/);
  expect(output).toMatch(
    /Graph POSTed \d+ batch\(es\) carrying \d+ notification\(s\) to \/api\/webhooks\/graph/,
  );
  for (const line of [
    /mail +created +"Launch review: agenda attached"/,
    /calendar +created +"Launch review"/,
    /files +created +"launch-plan\.md"/,
    /contacts +created +"Pavel Bansky"/,
    /todo +created +"Send the launch review minutes"/,
  ])
    expect(output).toMatch(line);
  expect(output).toContain('All 9 steps passed');
  // No ANSI colours when the writer is not a terminal, and never a token in the output.
  expect(output).not.toContain('\u001b[');
  expect(output).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
}, 120_000);

test('a failing step stops the tour with the problem code and the run counts as failed', async () => {
  const { out, text } = capture();
  const result = await runDemo({
    out,
    waitMs: 10_000,
    onStarted: async (app) => {
      await injectFault(app.sandbox, {
        method: 'POST',
        path: '/channels/[^/]+/messages$',
        status: 403,
        code: 'Forbidden',
        count: 5,
      });
    },
  });
  expect(result.ok).toBe(false);
  expect(result.steps.map((s) => s.ok)).toEqual([true, true, true, true, true, false]);
  expect(result.steps.at(-1)!.error).toMatch(/answered 403, expected 201 — forbidden: .*requestId /);
  expect(text()).toContain('5 of 9 steps passed; stopped at "Post to a Teams channel"');
}, 120_000);
