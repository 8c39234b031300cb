/**
 * Graph mail endpoints (Outlook), faithful to graph-behaviour.md §8.1 (+ §1–5). See
 * sandbox/README.md, "Adding a Graph service".
 *
 * Store collections (stable names; change notifications hook in through `store.onChange`):
 * - `messages`: every message of a user, each with `parentFolderId` (hidden `_attachments`
 *   holds attachment metadata; the bytes stay in module state).
 * - `mailFolders`: the user's folders (well-known ones are created on first use).
 * - `messages:{folderId}`: a per-folder mirror of `messages`, kept by model.ts, that message
 *   delta (per folder, §5.2) reads. Subscribers should watch `messages`, not the mirrors.
 *
 * Module files: model.ts (folders, message shape, moves), send.ts (sendMail, send,
 * reply/forward), attachments.ts (attachments, upload sessions).
 * Control: `GET|PUT /_sandbox/mail/settings {maxMessageSizeBytes}` (Exchange's message size
 * limit, 35 MB by default; tenants can raise it to 150 MB).
 */
import type { Sandbox } from '../../context';
import { empty, json } from '../../http';
import type { SandboxUser } from '../../state';
import { entityResponse, graphRoute, graphState, type GraphCtx } from '../core';
import { deltaResponse } from '../delta';
import { badQuery, GraphHttpError, notFound } from '../errors';
import { installMailAttachments } from './attachments';
import {
  attachmentsOf,
  copyMessage,
  derived,
  DRAFT_ONLY,
  ensureMailbox,
  installMirror,
  findMessage,
  folderDeltaCollection,
  htmlToText,
  limitedJson,
  mailState,
  messageInput,
  messageSize,
  messageTooLarge,
  moveMessage,
  newMessage,
  refs,
  renderFolder,
  renderMessage,
  requestSelect,
  resolveFolder,
  stableOutlookId,
  storeBlob,
  str,
  wellKnownFolderId,
  type Recipient,
} from './model';
import { messageMime } from './mime';
import { installMailSend, scheduleDeferred } from './send';
import { applySelect, assertOutlookFilterOrder } from '../odata';
import { collection } from '../paging';
import { graphTimestamp, type Entity } from '../store';

export { MESSAGES, MAIL_FOLDERS, folderDeltaCollection, ensureMailbox, wellKnownFolderId } from './model';

const READ_BASIC = { scopes: { anyOf: ['Mail.ReadBasic', 'Mail.Read'] } };
const READ = { scopes: { anyOf: ['Mail.Read'] } };
const WRITE = { scopes: { anyOf: ['Mail.ReadWrite'] } };

export function installMail(sandbox: Sandbox): void {
  // A restored mailbox's messages change before any folder is opened: mirror from the start.
  installMirror(sandbox);
  installMailFolders(sandbox);
  installMessages(sandbox);
  installMailSend(sandbox);
  installMailAttachments(sandbox);
  installMailControl(sandbox);
  // Restored messages held for a deferred send go out when due.
  scheduleDeferred(sandbox);
}

// ---------------------------------------------------------------- messages

/**
 * `$search` on messages (https://learn.microsoft.com/graph/search-query-parameter): a plain term
 * searches from, subject and body; KQL property terms (`from:`, `to:`, `subject:`, `body:`,
 * `participants:`, `hasAttachments:`, `received:`, `importance:`, `category:`) narrow it.
 */
export function searchMessage(m: Entity, term: string): boolean {
  const parts =
    term
      .trim()
      .toLowerCase()
      .match(/(?:\w+:)?(?:"[^"]*"|\S+)/g) ?? [];
  return parts.every((p) => matchSearchTerm(m, p));
}

function matchSearchTerm(m: Entity, part: string): boolean {
  const kv = /^(\w+):(.*)$/.exec(part);
  const value = (kv ? (kv[2] ?? '') : part).replace(/^"|"$/g, '');
  const addr = (r: unknown) => {
    const e = (r as Recipient | null)?.emailAddress;
    return e ? `${e.name} ${e.address}`.toLowerCase() : '';
  };
  const list = (f: string) => ((m[f] ?? []) as unknown[]).map(addr).join(' ');
  const from = addr(m.from);
  const recipients = `${list('toRecipients')} ${list('ccRecipients')} ${list('bccRecipients')}`;
  const subject = str(m.subject).toLowerCase();
  const b = (m.body ?? { contentType: 'text', content: '' }) as { contentType: string; content: string };
  const body = (b.contentType === 'html' ? htmlToText(b.content) : b.content).toLowerCase();
  switch (kv?.[1]) {
    case 'from':
      return from.includes(value);
    case 'to':
    case 'cc':
    case 'bcc':
      return recipients.includes(value);
    case 'participants':
      return from.includes(value) || recipients.includes(value);
    case 'subject':
      return subject.includes(value);
    case 'body':
      return body.includes(value);
    case 'hasattachments':
    case 'hasattachment':
      return String(m.hasAttachments) === value;
    case 'importance':
      return String(m.importance) === value;
    case 'category':
      return ((m.categories ?? []) as string[]).some((c) => c.toLowerCase().includes(value));
    case 'received': {
      const us = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(value);
      const day = us ? `${us[3]}-${us[1]!.padStart(2, '0')}-${us[2]!.padStart(2, '0')}` : value.slice(0, 10);
      return str(m.receivedDateTime).startsWith(day);
    }
    default:
      return subject.includes(part) || body.includes(part) || from.includes(part);
  }
}

function listMessages(ctx: GraphCtx, folderId?: string) {
  const user = ctx.user as SandboxUser;
  ensureMailbox(ctx.sandbox, user.id);
  const store = ctx.graph.store;
  const { messages, folders } = refs(store, user.id);
  let items = store.list(messages);
  if (folderId !== undefined) {
    const folder = resolveFolder(ctx, folderId);
    items = items.filter((m) => m.parentFolderId === folder.id);
  } else {
    // /me/messages spans the mailbox (Deleted Items included) but not Recoverable Items.
    const hidden = new Set(
      store
        .list(folders)
        .filter((f) => f.isHidden === true)
        .map((f) => f.id),
    );
    items = items.filter((m) => !hidden.has(String(m.parentFolderId)));
  }
  const searching = [...ctx.query.keys()].some((k) => k.toLowerCase() === '$search');
  const byDate = (field: string) => (a: Entity, b: Entity) =>
    String(b[field]).localeCompare(String(a[field]));
  return collection(ctx, items, {
    kind: 'outlook',
    maxTop: 1000,
    defaultTop: 10,
    search: searchMessage,
    validate: (q) => {
      // search-query-parameter.md: $search can't be combined with $filter or $orderby on messages.
      if (q.search !== undefined && (q.filter || q.orderby)) {
        throw badQuery(
          'outlook',
          "The query parameter '$search' can't be combined with '$filter' or '$orderby'.",
        );
      }
      assertOutlookFilterOrder(q);
    },
    // $search results come sorted by sent date; lists by received date, newest first.
    defaultOrder: byDate(searching ? 'sentDateTime' : 'receivedDateTime'),
    render: (m) => renderMessage(ctx, m),
    context: `users('${user.id}')/${folderId !== undefined ? `mailFolders('${folderId}')/` : ''}messages`,
  });
}

function getMessage(ctx: GraphCtx, folderId?: string) {
  const user = ctx.user as SandboxUser;
  const m = findMessage(ctx, ctx.params.id!, folderId);
  const select = requestSelect(ctx);
  const rendered = renderMessage(ctx, m);
  const out = applySelect(rendered, select);
  // $expand'ed navigation properties come back whatever $select says (query-parameters.md).
  if (rendered.attachments !== undefined) out.attachments = rendered.attachments;
  if (rendered.singleValueExtendedProperties !== undefined)
    out.singleValueExtendedProperties = rendered.singleValueExtendedProperties;
  return entityResponse(ctx, out, {
    context: `users('${user.id}')/messages${select ? `(${select.join(',')})` : ''}/$entity`,
  });
}

async function createDraft(ctx: GraphCtx, folderId: string) {
  const user = ctx.user as SandboxUser;
  const folder = resolveFolder(ctx, folderId);
  const { fields, attachments } = messageInput(await limitedJson(ctx), ctx.sandbox);
  const draft = newMessage(
    ctx.sandbox,
    { ...fields, _attachments: attachments.map((a) => a.meta) },
    folder.id,
  );
  const limit = mailState(ctx.sandbox).maxMessageSizeBytes;
  if (messageSize(draft) > limit) throw messageTooLarge(limit);
  const created = ctx.graph.store.insert(refs(ctx.graph.store, user.id).messages, draft);
  return entityResponse(ctx, renderMessage(ctx, created), {
    status: 201,
    context: `users('${user.id}')/messages/$entity`,
  });
}

/** https://learn.microsoft.com/graph/api/message-update: 200 with the message. */
async function updateMessage(ctx: GraphCtx, folderId?: string) {
  const user = ctx.user as SandboxUser;
  const m = findMessage(ctx, ctx.params.id!, folderId);
  const raw = await limitedJson<Record<string, unknown>>(ctx);
  if (raw.attachments !== undefined) {
    throw new GraphHttpError(
      400,
      'ErrorInvalidRequest',
      'Add attachments with POST .../attachments, not PATCH.',
    );
  }
  const { fields } = messageInput(raw, ctx.sandbox);
  if (m.isDraft !== true) {
    const draftOnly = Object.keys(fields).find((k) => DRAFT_ONLY.has(k));
    if (draftOnly) {
      throw new GraphHttpError(
        400,
        'ErrorInvalidPropertyUpdateSentMessage',
        `Update operation is not supported for the property '${draftOnly}' on a sent message.`,
      );
    }
  }
  const store = ctx.graph.store;
  const updated = store.update(refs(store, user.id).messages, m.id, (cur) => {
    const next = { ...cur, ...fields };
    // PATCH adds or changes the extended properties it names and keeps the others.
    if (fields._extended) next._extended = { ...(cur._extended as object | undefined), ...fields._extended };
    return { ...next, ...derived(next) };
  }) as Entity;
  return entityResponse(ctx, renderMessage(ctx, updated), {
    context: `users('${user.id}')/messages/$entity`,
  });
}

/**
 * https://learn.microsoft.com/graph/api/message-delete: 204. The item goes to Recoverable Items
 * (`recoverableitemsdeletions`), not Deleted Items; a move to `deleteditems` does that, and
 * `permanentDelete` purges.
 */
function deleteMessage(ctx: GraphCtx, folderId?: string) {
  const user = ctx.user as SandboxUser;
  const m = findMessage(ctx, ctx.params.id!, folderId);
  const deletions = wellKnownFolderId(user.id, 'recoverableitemsdeletions');
  if (m.parentFolderId === deletions) ctx.graph.store.remove(refs(ctx.graph.store, user.id).messages, m.id);
  else moveMessage(ctx, user.id, m, deletions);
  return empty(204);
}

async function destination(ctx: GraphCtx): Promise<Entity> {
  const body = await limitedJson<{ destinationId?: unknown }>(ctx);
  if (typeof body.destinationId !== 'string' || !body.destinationId) {
    throw new GraphHttpError(400, 'ErrorInvalidRequest', "The 'destinationId' parameter is required.");
  }
  return resolveFolder(ctx, body.destinationId);
}

function installMessages(sandbox: Sandbox): void {
  // https://learn.microsoft.com/graph/api/user-list-messages
  graphRoute(sandbox, 'GET', '/me/messages', READ_BASIC, (ctx) => listMessages(ctx));
  // https://learn.microsoft.com/graph/api/user-post-messages: 201 draft.
  graphRoute(sandbox, 'POST', '/me/messages', WRITE, (ctx) => createDraft(ctx, 'drafts'));

  // Message delta is per folder (reference §5.2, https://learn.microsoft.com/graph/delta-query-messages).
  graphRoute(sandbox, 'GET', '/me/mailFolders/:folderId/messages/delta', READ, (ctx) => {
    const user = ctx.user as SandboxUser;
    const folder = resolveFolder(ctx, ctx.params.folderId!);
    const store = ctx.graph.store;
    const real = refs(store, user.id).messages;
    return deltaResponse(ctx, store.collection(user.id, folderDeltaCollection(folder.id)), {
      style: 'outlook',
      validateInitial: validateDeltaQuery,
      filter: (item, query) => receivedAfter(item, query),
      render: (item) => renderMessage(ctx, store.get(real, item.id) ?? item),
      context: `users('${user.id}')/mailFolders('${folder.id}')/messages/delta`,
    });
  });
  graphRoute(sandbox, 'GET', '/me/mailFolders/:folderId/messages', READ_BASIC, (ctx) =>
    listMessages(ctx, ctx.params.folderId),
  );
  graphRoute(sandbox, 'POST', '/me/mailFolders/:folderId/messages', WRITE, (ctx) =>
    createDraft(ctx, ctx.params.folderId!),
  );
  graphRoute(sandbox, 'GET', '/me/mailFolders/:folderId/messages/:id', READ, (ctx) =>
    getMessage(ctx, ctx.params.folderId),
  );
  graphRoute(sandbox, 'PATCH', '/me/mailFolders/:folderId/messages/:id', WRITE, (ctx) =>
    updateMessage(ctx, ctx.params.folderId),
  );
  graphRoute(sandbox, 'DELETE', '/me/mailFolders/:folderId/messages/:id', WRITE, (ctx) =>
    deleteMessage(ctx, ctx.params.folderId),
  );

  // https://learn.microsoft.com/graph/api/message-move: 201 with a NEW id unless ImmutableId.
  graphRoute(sandbox, 'POST', '/me/messages/:id/move', WRITE, async (ctx) => {
    const user = ctx.user as SandboxUser;
    const m = findMessage(ctx, ctx.params.id!);
    const folder = await destination(ctx);
    const moved = folder.id === m.parentFolderId ? m : moveMessage(ctx, user.id, m, folder.id);
    return entityResponse(ctx, renderMessage(ctx, moved), {
      status: 201,
      context: `users('${user.id}')/messages/$entity`,
    });
  });
  // https://learn.microsoft.com/graph/api/message-copy: 201 with the copy.
  graphRoute(sandbox, 'POST', '/me/messages/:id/copy', WRITE, async (ctx) => {
    const user = ctx.user as SandboxUser;
    const m = findMessage(ctx, ctx.params.id!);
    const folder = await destination(ctx);
    return entityResponse(ctx, renderMessage(ctx, copyMessage(ctx, user.id, m, folder.id)), {
      status: 201,
      context: `users('${user.id}')/messages/$entity`,
    });
  });
  // https://learn.microsoft.com/graph/api/message-permanentdelete: 204, gone for good.
  graphRoute(sandbox, 'POST', '/me/messages/:id/permanentDelete', WRITE, (ctx) => {
    const user = ctx.user as SandboxUser;
    const m = findMessage(ctx, ctx.params.id!);
    ctx.graph.store.remove(refs(ctx.graph.store, user.id).messages, m.id);
    return empty(204);
  });

  // https://learn.microsoft.com/graph/api/message-get
  // https://learn.microsoft.com/graph/outlook-get-mime-message: the MIME source.
  graphRoute(sandbox, 'GET', '/me/messages/:id/$value', READ, (ctx) => {
    const m = findMessage(ctx, ctx.params.id!);
    return {
      status: 200,
      headers: { 'content-type': 'text/plain' },
      body: messageMime(sandbox, m, attachmentsOf(m)),
    };
  });
  graphRoute(sandbox, 'GET', '/me/messages/:id', READ, (ctx) => getMessage(ctx));
  graphRoute(sandbox, 'PATCH', '/me/messages/:id', WRITE, (ctx) => updateMessage(ctx));
  graphRoute(sandbox, 'DELETE', '/me/messages/:id', WRITE, (ctx) => deleteMessage(ctx));
}

/**
 * Message delta supports `$filter` only as `receivedDateTime ge|gt {value}`, `$orderby` only
 * `receivedDateTime desc`, and no `$search` (delta-query-messages.md).
 */
function validateDeltaQuery(query: URLSearchParams): void {
  for (const [k, v] of query) {
    const key = k.toLowerCase();
    if (key === '$search')
      throw badQuery('outlook', "The query parameter '$search' is not supported with delta.");
    if (key === '$orderby' && !/^\s*receivedDateTime\s+desc\s*$/i.test(v)) {
      throw badQuery('outlook', "Only '$orderby=receivedDateTime desc' is supported with delta.");
    }
    if (key === '$filter' && !/^\s*receivedDateTime\s+(ge|gt)\s+\S+\s*$/i.test(v)) {
      throw badQuery('outlook', "Only '$filter=receivedDateTime ge|gt {value}' is supported with delta.");
    }
  }
}

function receivedAfter(item: Entity, query: URLSearchParams): boolean {
  for (const [k, v] of query) {
    if (k.toLowerCase() !== '$filter') continue;
    const m = /^\s*receivedDateTime\s+(ge|gt)\s+(\S+)\s*$/i.exec(v);
    if (!m) continue;
    const at = Date.parse(m[2]!);
    const received = Date.parse(String(item.receivedDateTime));
    return m[1]!.toLowerCase() === 'ge' ? received >= at : received > at;
  }
  return true;
}

// ---------------------------------------------------------------- folders

function folderExists(): GraphHttpError {
  // Graph reports a duplicate sibling name as 409 (mailfolder-post-childfolders.md; code from EWS).
  return new GraphHttpError(409, 'ErrorFolderExists', 'A folder with the specified name already exists.');
}

function siblings(ctx: GraphCtx, parentId: string): Entity[] {
  const store = ctx.graph.store;
  return store
    .list(refs(store, (ctx.user as SandboxUser).id).folders)
    .filter((f) => f.parentFolderId === parentId);
}

function listFolders(ctx: GraphCtx, parentId: string) {
  const user = ctx.user as SandboxUser;
  const includeHidden = (ctx.query.get('includeHiddenFolders') ?? '').toLowerCase() === 'true';
  const items = siblings(ctx, parentId).filter((f) => includeHidden || f.isHidden !== true);
  return collection(ctx, items, {
    kind: 'outlook',
    defaultTop: 10,
    render: (f) => renderFolder(ctx.graph.store, user.id, f),
    supports: { orderby: true },
  });
}

async function createFolder(ctx: GraphCtx, parentId: string) {
  const user = ctx.user as SandboxUser;
  const body = await limitedJson<{ displayName?: unknown; isHidden?: unknown }>(ctx);
  if (typeof body.displayName !== 'string' || !body.displayName.trim()) {
    throw new GraphHttpError(400, 'ErrorInvalidRequest', "The 'displayName' property is required.");
  }
  const name = body.displayName.trim();
  if (siblings(ctx, parentId).some((f) => String(f.displayName).toLowerCase() === name.toLowerCase())) {
    throw folderExists();
  }
  const store = ctx.graph.store;
  const created = store.insert(refs(store, user.id).folders, {
    displayName: name,
    parentFolderId: parentId,
    isHidden: body.isHidden === true,
  });
  return entityResponse(ctx, renderFolder(store, user.id, created), {
    status: 201,
    context: `users('${user.id}')/mailFolders/$entity`,
  });
}

function installMailFolders(sandbox: Sandbox): void {
  const root = (ctx: GraphCtx) => resolveFolder(ctx, 'msgfolderroot').id;
  // https://learn.microsoft.com/graph/api/user-list-mailfolders: top-level folders.
  graphRoute(sandbox, 'GET', '/me/mailFolders', READ_BASIC, (ctx) => listFolders(ctx, root(ctx)));
  // https://learn.microsoft.com/graph/api/user-post-mailfolders: 201; duplicate name → 409.
  graphRoute(sandbox, 'POST', '/me/mailFolders', WRITE, (ctx) => createFolder(ctx, root(ctx)));
  graphRoute(sandbox, 'GET', '/me/mailFolders/:folderId/childFolders', READ_BASIC, (ctx) =>
    listFolders(ctx, resolveFolder(ctx, ctx.params.folderId!).id),
  );
  graphRoute(sandbox, 'POST', '/me/mailFolders/:folderId/childFolders', WRITE, (ctx) =>
    createFolder(ctx, resolveFolder(ctx, ctx.params.folderId!).id),
  );
  graphRoute(sandbox, 'GET', '/me/mailFolders/:folderId', READ_BASIC, (ctx) => {
    const user = ctx.user as SandboxUser;
    const folder = resolveFolder(ctx, ctx.params.folderId!);
    return entityResponse(
      ctx,
      applySelect(renderFolder(ctx.graph.store, user.id, folder), requestSelect(ctx)),
      {
        context: `users('${user.id}')/mailFolders/$entity`,
      },
    );
  });
  // https://learn.microsoft.com/graph/api/mailfolder-update: 200.
  graphRoute(sandbox, 'PATCH', '/me/mailFolders/:folderId', WRITE, async (ctx) => {
    const user = ctx.user as SandboxUser;
    const folder = resolveFolder(ctx, ctx.params.folderId!);
    const body = await limitedJson<{ displayName?: unknown }>(ctx);
    const store = ctx.graph.store;
    let updated = folder;
    if (body.displayName !== undefined) {
      if (typeof body.displayName !== 'string' || !body.displayName.trim()) {
        throw new GraphHttpError(400, 'ErrorInvalidRequest', "'displayName' must be a non-empty string.");
      }
      const name = body.displayName.trim();
      const clash = siblings(ctx, String(folder.parentFolderId)).some(
        (f) => f.id !== folder.id && String(f.displayName).toLowerCase() === name.toLowerCase(),
      );
      if (clash) throw folderExists();
      updated = store.update(refs(store, user.id).folders, folder.id, { displayName: name }) as Entity;
    }
    return entityResponse(ctx, renderFolder(store, user.id, updated), {
      context: `users('${user.id}')/mailFolders/$entity`,
    });
  });
  // https://learn.microsoft.com/graph/api/mailfolder-delete: 204. Well-known folders can't go.
  graphRoute(sandbox, 'DELETE', '/me/mailFolders/:folderId', WRITE, (ctx) => {
    const user = ctx.user as SandboxUser;
    const folder = resolveFolder(ctx, ctx.params.folderId!);
    if (folder._wellKnownName) {
      throw new GraphHttpError(
        400,
        'ErrorDeleteDistinguishedFolder',
        'Distinguished folders cannot be deleted.',
      );
    }
    const store = ctx.graph.store;
    const { folders, messages } = refs(store, user.id);
    const doomed = new Set<string>([folder.id]);
    for (let grew = true; grew;) {
      grew = false;
      for (const f of store.list(folders)) {
        if (!doomed.has(f.id) && doomed.has(String(f.parentFolderId))) {
          doomed.add(f.id);
          grew = true;
        }
      }
    }
    for (const m of store.list(messages))
      if (doomed.has(String(m.parentFolderId))) store.remove(messages, m.id);
    for (const id of doomed) store.remove(folders, id);
    return empty(204);
  });
}

// ---------------------------------------------------------------- control

function installMailControl(sandbox: Sandbox): void {
  sandbox.control.on('GET', '/mail/settings', () =>
    json(200, { maxMessageSizeBytes: mailState(sandbox).maxMessageSizeBytes }),
  );
  sandbox.control.on('PUT', '/mail/settings', async (ctx) => {
    const body = await ctx.json<{ maxMessageSizeBytes?: unknown }>();
    const size = Number(body.maxMessageSizeBytes);
    if (!Number.isInteger(size) || size <= 0)
      return json(400, { error: 'maxMessageSizeBytes must be a positive integer' });
    mailState(sandbox).maxMessageSizeBytes = size;
    return json(200, { maxMessageSizeBytes: size });
  });
}

// ---------------------------------------------------------------- seed

interface SeedMessage {
  key: string;
  folder: string;
  from: string;
  to: string[];
  subject: string;
  body: { contentType: 'text' | 'html'; content: string };
  hoursAgo: number;
  isRead?: boolean;
  importance?: 'low' | 'normal' | 'high';
  flagged?: boolean;
  categories?: string[];
  isDraft?: boolean;
  attachment?: { name: string; contentType: string; text: string };
  inferenceClassification?: 'focused' | 'other';
}

const SEED: Record<string, SeedMessage[]> = {
  'adele.vance@contoso.test': [
    {
      key: 'q3-plan',
      folder: 'inbox',
      from: 'megan.bowen@contoso.test',
      to: ['adele.vance@contoso.test'],
      subject: 'Q3 marketing plan for review',
      body: {
        contentType: 'html',
        content:
          '<html><body><p>Hi Adele,</p><p>Attached is the draft Q3 plan. Could you review the launch dates by Thursday?</p><p>Thanks,<br>Megan</p></body></html>',
      },
      hoursAgo: 2,
      isRead: false,
      importance: 'high',
      categories: ['Red category'],
      attachment: {
        name: 'Q3-plan.txt',
        contentType: 'text/plain',
        text: 'Q3 plan\n- July: beta\n- August: launch\n- September: review\n',
      },
    },
    {
      key: 'pipeline',
      folder: 'inbox',
      from: 'lee.gu@contoso.test',
      to: ['adele.vance@contoso.test'],
      subject: 'Build pipeline is green again',
      body: { contentType: 'text', content: 'The flaky integration test is fixed; main is green.\n\nLee' },
      hoursAgo: 20,
      flagged: true,
    },
    {
      key: 'digest',
      folder: 'inbox',
      from: 'newsletter@fabrikam.example',
      to: ['adele.vance@contoso.test'],
      subject: 'Fabrikam monthly digest',
      body: {
        contentType: 'html',
        content: '<html><body><h1>This month at Fabrikam</h1><p>New features.</p></body></html>',
      },
      hoursAgo: 50,
      inferenceClassification: 'other',
    },
    {
      key: 'agenda',
      folder: 'sentitems',
      from: 'adele.vance@contoso.test',
      to: ['lee.gu@contoso.test'],
      subject: 'Customer visit agenda',
      body: { contentType: 'text', content: 'Lee, here is the agenda for Tuesday: demo, roadmap, Q&A.' },
      hoursAgo: 26,
    },
    {
      key: 'offsite',
      folder: 'drafts',
      from: 'adele.vance@contoso.test',
      to: ['megan.bowen@contoso.test'],
      subject: 'Team offsite ideas',
      body: { contentType: 'text', content: 'Ideas so far: hiking, cooking class.' },
      hoursAgo: 5,
      isDraft: true,
    },
  ],
  'megan.bowen@contoso.test': [
    {
      key: 'lunch',
      folder: 'inbox',
      from: 'adele.vance@contoso.test',
      to: ['megan.bowen@contoso.test'],
      subject: 'Lunch on Friday?',
      body: { contentType: 'text', content: 'Shall we try the new place on Friday at noon?' },
      hoursAgo: 3,
      isRead: false,
    },
    {
      key: 'q3-plan-sent',
      folder: 'sentitems',
      from: 'megan.bowen@contoso.test',
      to: ['adele.vance@contoso.test'],
      subject: 'Q3 marketing plan for review',
      body: { contentType: 'text', content: 'Hi Adele, attached is the draft Q3 plan.' },
      hoursAgo: 2,
    },
  ],
  'lee.gu@contoso.test': [
    {
      key: 'agenda',
      folder: 'inbox',
      from: 'adele.vance@contoso.test',
      to: ['lee.gu@contoso.test'],
      subject: 'Customer visit agenda',
      body: { contentType: 'text', content: 'Lee, here is the agenda for Tuesday: demo, roadmap, Q&A.' },
      hoursAgo: 26,
      isRead: false,
      importance: 'high',
    },
  ],
};

function seedRecipient(sandbox: Sandbox, address: string): Recipient {
  const user = sandbox.directory.findUser(address);
  return { emailAddress: { address, name: user?.displayName ?? address } };
}

/** Demo data for the seeded users (npm start): a few messages per mailbox, deterministic ids. */
export function seedMail(sandbox: Sandbox): void {
  const store = graphState(sandbox).store;
  for (const [upn, list] of Object.entries(SEED)) {
    const user = sandbox.directory.findUser(upn);
    if (!user) continue;
    ensureMailbox(sandbox, user.id);
    const { messages } = refs(store, user.id);
    for (const s of list) {
      const id = stableOutlookId(user.id, 'message', s.key);
      if (store.record(messages, id)) continue;
      const at = graphTimestamp(sandbox.now() - s.hoursAgo * 3600 * 1000);
      const from = seedRecipient(sandbox, s.from);
      const attachments = s.attachment
        ? [
            storeBlob(
              sandbox,
              s.attachment.name,
              s.attachment.contentType,
              Buffer.from(s.attachment.text, 'utf8'),
            ),
          ]
        : [];
      store.insert(
        messages,
        newMessage(
          sandbox,
          {
            id,
            subject: s.subject,
            body: s.body,
            from: s.isDraft ? null : from,
            sender: s.isDraft ? null : from,
            toRecipients: s.to.map((a) => seedRecipient(sandbox, a)),
            receivedDateTime: at,
            sentDateTime: at,
            isRead: s.isRead ?? true,
            isDraft: s.isDraft ?? false,
            importance: s.importance ?? 'normal',
            categories: s.categories ?? [],
            flag: { flagStatus: s.flagged ? 'flagged' : 'notFlagged' },
            inferenceClassification: s.inferenceClassification ?? 'focused',
            conversationId: stableOutlookId('conversation', s.subject).replace(/^AAMkAG/, 'AAQkAG'),
            internetMessageId: `<${s.key}.${user.id.slice(0, 8)}@contoso.test>`,
            _attachments: attachments,
          },
          wellKnownFolderId(user.id, s.folder),
        ),
      );
    }
  }
}

/** For tests and other modules: the sandbox user's Inbox / well-known folder id. */
export function mailFolderId(sandbox: Sandbox, upn: string, wellKnown: string): string {
  const user = sandbox.directory.findUser(upn);
  if (!user) throw notFound('outlook');
  ensureMailbox(sandbox, user.id);
  return wellKnownFolderId(user.id, wellKnown);
}
