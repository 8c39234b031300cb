/**
 * Errors a person can act on: a missing field says it is required and what is expected (from
 * the schema's description), a wrong type names the expected one, a value in no accepted form
 * says which forms are accepted; no action answers a bare "Invalid input".
 */
import { loadAllActions } from '../../shared/services';
import { allActions, getAction } from '../../shared/actions/registry';
import { fieldErrors } from '../../shared/http/validate';

beforeAll(() => loadAllActions());

function errorsOf(id: string, input: unknown) {
  const action = getAction(id)!;
  const parsed = action.input.safeParse(input);
  expect(parsed.success).toBe(false);
  return fieldErrors(parsed.error!, action.input, input);
}

test('a missing start says what is expected', () => {
  const start = errorsOf('calendar.createEvent', { subject: 'x' }).find((e) => e.field === 'start')!;
  expect(start.message).toMatch(/^start is required: .*ISO instant.*\{dateTime, timeZone\}.*\{date\}/);
});

test('a wrong type names the expected type; a value in no accepted form lists the forms', () => {
  const errors = errorsOf('calendar.createEvent', { subject: 3, start: 5, end: 'tomorrow-ish' });
  expect(errors.find((e) => e.field === 'subject')!.message).toMatch(
    /^subject must be a string \(got number\)/,
  );
  expect(errors.find((e) => e.field === 'start')!.message).toMatch(
    /^start is not in an accepted form: .*ISO/,
  );
});

test('no action answers an empty or mistyped input with a bare "Invalid input"', () => {
  const bare: string[] = [];
  for (const action of allActions()) {
    for (const input of [{}, { definitelyNotAField: 1 }]) {
      const parsed = action.input.safeParse(input);
      if (parsed.success) continue;
      for (const e of fieldErrors(parsed.error, action.input, input))
        if (/^Invalid input/.test(e.message)) bare.push(`${action.id} ${e.field}: ${e.message}`);
    }
  }
  expect(bare).toEqual([]);
});
