/**
 * Small tool lists. Models choose worse among a hundred tools than among ten, so besides the full
 * list `/api/mcp` offers:
 *
 * - presets, `/api/mcp?preset=mail-triage,scheduling`: the tools of a task or of a feature
 *   (`?preset=calendar`), still filtered by what the user granted;
 * - discovery, `/api/mcp?tools=discovery`: three tools only, `search_tools` (ranked by name,
 *   summary and description), `get_tool_schema` and `call_tool`, so the model pulls in what it
 *   needs when it needs it.
 *
 * Calling a tool by name works in every mode (a tool outside the list behaves as it does in the
 * full list). See docs/assistants.md.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { FEATURES, type Feature } from '../config';
import { allActions } from '../actions/registry';
import { invalidInput } from '../http/validate';

export type ToolMode = { kind: 'all' } | { kind: 'discovery' } | { kind: 'preset'; names: string[] };

/** Task presets: the tools an assistant needs for one kind of work. */
export const TASK_PRESETS: Record<string, { description: string; tools: readonly string[] }> = {
  'mail-triage': {
    description: 'Read, sort, answer and follow up on mail',
    tools: [
      'mail.listMessages',
      'mail.getMessage',
      'mail.listFolders',
      'mail.updateMessage',
      'mail.moveMessage',
      'mail.deleteMessage',
      'mail.replyToMessage',
      'mail.forwardMessage',
      'todo.createTask',
      'profile.getMe',
      'search.query',
    ],
  },
  scheduling: {
    description: 'Find a time, book meetings and answer invitations',
    tools: [
      'calendar.listEvents',
      'calendar.getEvent',
      'calendar.getSchedule',
      'calendar.findMeetingTimes',
      'calendar.findRooms',
      'calendar.createEvent',
      'calendar.updateEvent',
      'calendar.respondToEvent',
      'calendar.cancelEvent',
      'profile.getMailboxSettings',
      'contacts.listContacts',
      'people.find',
      'people.getPresence',
    ],
  },
  'team-chat': {
    description: 'Follow and answer Teams channels and chats',
    tools: [
      'teams.listJoinedTeams',
      'teams.listChannels',
      'teams.listChannelMessages',
      'teams.listReplies',
      'teams.replyToChannelMessage',
      'teams.sendChannelMessage',
      'teams.listChats',
      'teams.listChatMessages',
      'teams.sendChatMessage',
      'people.getPresence',
    ],
  },
  'file-finder': {
    description: 'Find, share and organise OneDrive files',
    tools: [
      'files.search',
      'files.listRecent',
      'files.listSharedWithMe',
      'files.listChildren',
      'files.getItem',
      'files.createLink',
      'files.moveItem',
      'files.createFolder',
      'search.query',
    ],
  },
};

/** Every preset name: the task presets and one per feature (its tools). */
export function presetNames(): string[] {
  return [...Object.keys(TASK_PRESETS), ...FEATURES];
}

/** The `tools` / `preset` query of an /api/mcp URL (400 invalid_input naming what is known). */
export function parseToolMode(url: URL): ToolMode {
  const tools = url.searchParams.get('tools');
  const preset = url.searchParams.get('preset');
  if (tools !== null && tools !== 'all' && tools !== 'discovery') {
    throw invalidInput([{ field: 'tools', message: 'must be all or discovery' }]);
  }
  if (tools === 'discovery' && preset !== null) {
    throw invalidInput([{ field: 'preset', message: 'cannot be combined with tools=discovery' }]);
  }
  if (tools === 'discovery') return { kind: 'discovery' };
  if (preset === null) return { kind: 'all' };
  const names = preset
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const known = presetNames();
  const unknown = names.filter((n) => !known.includes(n));
  if (names.length === 0 || unknown.length > 0) {
    throw invalidInput([
      {
        field: 'preset',
        message: `${unknown.length ? `unknown preset ${unknown.map((u) => u.slice(0, 40)).join(', ')}` : 'is empty'}; use ${known.join(', ')}`,
      },
    ]);
  }
  return { kind: 'preset', names };
}

/** The action ids a set of presets names. */
export function presetTools(names: readonly string[]): Set<string> {
  const ids = new Set<string>();
  for (const name of names) {
    const task = TASK_PRESETS[name];
    if (task) for (const id of task.tools) ids.add(id);
    else if ((FEATURES as readonly string[]).includes(name)) {
      for (const a of allActions()) if (a.feature === (name as Feature)) ids.add(a.id);
    }
  }
  return ids;
}

// ---------------------------------------------------------------- discovery tools

export const SEARCH_TOOLS = 'search_tools';
export const GET_TOOL_SCHEMA = 'get_tool_schema';
export const CALL_TOOL = 'call_tool';

export const DISCOVERY_TOOLS: Tool[] = [
  {
    name: SEARCH_TOOLS,
    title: 'Find the tools for a task',
    description:
      "Searches the Microsoft 365 tools (mail, calendar, files, Teams, contacts, To Do) available to this user by what you want to do, e.g. 'reply to an email' or 'find a free meeting time'. Returns the best matches (name, summary, kind). Then get_tool_schema for the arguments, and call_tool to run one.",
    inputSchema: {
      type: 'object',
      properties: {
        query: {
          type: 'string',
          minLength: 1,
          maxLength: 300,
          description: 'What you want to do, in words.',
        },
        limit: { type: 'integer', minimum: 1, maximum: 25, description: 'How many matches (default 8).' },
      },
      required: ['query'],
      additionalProperties: false,
    },
    annotations: { title: 'Find the tools for a task', readOnlyHint: true, openWorldHint: false },
  },
  {
    name: GET_TOOL_SCHEMA,
    title: 'Get how to call a tool',
    description:
      'Returns one tool’s full description, input schema (its arguments), output schema and annotations, by the name search_tools gave.',
    inputSchema: {
      type: 'object',
      properties: { name: { type: 'string', minLength: 1, maxLength: 100 } },
      required: ['name'],
      additionalProperties: false,
    },
    annotations: { title: 'Get how to call a tool', readOnlyHint: true, openWorldHint: false },
  },
  {
    name: CALL_TOOL,
    title: 'Run a tool',
    description:
      'Runs a tool by name with its arguments (as get_tool_schema describes them) and returns its result. Destructive tools need "confirm": true inside arguments, as when called directly; an idempotency key goes in this call’s _meta.idempotencyKey.',
    inputSchema: {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 100 },
        arguments: { type: 'object', description: 'The tool’s arguments.' },
      },
      required: ['name'],
      additionalProperties: false,
    },
    annotations: { title: 'Run a tool', openWorldHint: true },
  },
];

const STOPWORDS = new Set([
  'to',
  'do',
  'my',
  'the',
  'an',
  'in',
  'of',
  'for',
  'on',
  'at',
  'and',
  'or',
  'me',
  'it',
  'is',
]);

const words = (text: string): string[] =>
  text
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    // "to do" and "to-do" name the service (To Do), not two stopwords.
    .replace(/\bto[\s-]do\b/g, 'todo')
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 1 && !STOPWORDS.has(w))
    .map((w) => (w.length > 3 ? w.replace(/(ies|es|s)$/, (m) => (m === 'ies' ? 'y' : '')) : w));

const SYNONYMS: Record<string, string[]> = {
  add: ['create', 'new'],
  new: ['create'],
  make: ['create'],
  remove: ['delete'],
  find: ['search', 'list'],
  show: ['list', 'get'],
  read: ['get', 'list'],
  post: ['send'],
  write: ['send', 'create'],
  email: ['mail', 'message'],
  mail: ['email', 'message'],
  meeting: ['event', 'calendar'],
  appointment: ['event'],
  document: ['file'],
  doc: ['file'],
  chat: ['teams', 'message'],
  task: ['todo'],
  site: ['sharepoint'],
  intranet: ['sharepoint', 'site'],
  library: ['sharepoint', 'file'],
  sharepoint: ['site', 'list'],
  transcript: ['meetings', 'meeting'],
  recording: ['meetings'],
  attendance: ['meetings'],
  todo: ['task'],
  plan: ['planner'],
  board: ['planner', 'bucket'],
  spreadsheet: ['excel', 'worksheet'],
  sheet: ['excel', 'worksheet'],
  workbook: ['excel'],
  xlsx: ['excel'],
  cell: ['excel', 'range'],
  row: ['excel', 'table'],
  free: ['availability', 'schedule'],
  availability: ['schedule', 'free'],
  reply: ['answer'],
  answer: ['reply'],
  vacation: ['automatic', 'replies'],
  ooo: ['automatic', 'replies'],
  away: ['automatic', 'replies'],
  label: ['category'],
};

/** Tools ranked for a query: name words count most, then title/summary, then the description. */
export function rankTools(tools: readonly Tool[], query: string, limit = 8): Array<Tool & { score: number }> {
  const asked = words(query);
  const terms = new Set([...asked, ...asked.flatMap((w) => SYNONYMS[w] ?? [])]);
  const scored = tools.map((tool) => {
    const name = new Set(words(tool.name));
    const title = new Set(words(tool.title ?? ''));
    const description = new Set(words(tool.description ?? ''));
    let score = 0;
    for (const term of terms) {
      const weight = asked.includes(term) ? 1 : 0.5; // a synonym counts half
      if (name.has(term)) score += 3 * weight;
      if (title.has(term)) score += 2 * weight;
      if (description.has(term)) score += 1 * weight;
    }
    return { ...tool, score };
  });
  return scored
    .filter((t) => t.score > 0)
    .sort((a, b) => b.score - a.score || a.name.localeCompare(b.name))
    .slice(0, limit);
}
