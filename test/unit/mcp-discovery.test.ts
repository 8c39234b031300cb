/**
 * Small tool lists (shared/mcp/discovery.ts): search_tools ranks the real tool definitions for
 * everyday requests, presets name only existing tools, and the URL query is validated.
 */
import '../../shared/services/all';
import { FEATURES } from '../../shared/config';
import { getAction } from '../../shared/actions/registry';
import { parseToolMode, presetTools, rankTools, TASK_PRESETS } from '../../shared/mcp/discovery';
import { toolsFor } from '../../shared/mcp/tools';
import { Problem } from '../../shared/http/problem';

const all = toolsFor({ granted: [...FEATURES], readOnly: false });
const top = (query: string, n = 3) => rankTools(all, query, n).map((t) => t.name);

test.each([
  ['reply to an email', 'mail.replyToMessage'],
  ['send a mail', 'mail.sendMessage'],
  ['find a free time for a meeting', 'calendar.findMeetingTimes'],
  ['search my documents', 'files.search'],
  ['post in a Teams channel', 'teams.sendChannelMessage'],
  ['add a task to my to do list', 'todo.createTask'],
  ['delete a contact', 'contacts.deleteContact'],
  ['add a task to the team plan', 'planner.createTask'],
  ['tick off a checklist item in planner', 'planner.updateChecklist'],
  ['add this expense as a row in the tracker spreadsheet', 'excel.addTableRows'],
  ['what is the total in cell F2 of the workbook', 'excel.readRange'],
])('"%s" finds %s among the first three', (query, expected) => {
  expect(top(query)).toContain(expected);
});

test('a query that matches nothing returns nothing, and the limit is honoured', () => {
  expect(rankTools(all, 'zzqx plover', 8)).toEqual([]);
  expect(rankTools(all, 'mail', 5)).toHaveLength(5);
});

test('every task preset names existing tools; a feature preset is that feature’s tools', () => {
  for (const [name, preset] of Object.entries(TASK_PRESETS)) {
    expect({ name, missing: preset.tools.filter((id) => !getAction(id)) }).toEqual({ name, missing: [] });
  }
  const calendar = presetTools(['calendar']);
  expect(calendar.has('calendar.createEvent')).toBe(true);
  expect(calendar.has('mail.sendMessage')).toBe(false);
});

test('the /api/mcp query: all by default, a preset list, discovery; anything else is named', () => {
  const mode = (q: string) => parseToolMode(new URL(`http://h/api/mcp${q}`));
  expect(mode('')).toEqual({ kind: 'all' });
  expect(mode('?tools=discovery')).toEqual({ kind: 'discovery' });
  expect(mode('?preset=mail-triage,calendar')).toEqual({
    kind: 'preset',
    names: ['mail-triage', 'calendar'],
  });
  for (const bad of ['?tools=some', '?preset=nope', '?preset=', '?tools=discovery&preset=mail']) {
    let err: unknown;
    try {
      mode(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Problem);
    expect((err as Problem).code).toBe('invalid_input');
  }
});
