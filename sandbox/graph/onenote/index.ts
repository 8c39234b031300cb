/**
 * Graph OneNote (https://learn.microsoft.com/graph/integrate-with-onenote): notebooks, section
 * groups, sections and pages of a user.
 *
 * - Pages are created from HTML: `POST .../sections/{id}/pages` with `Content-Type: text/html`, or
 *   `multipart/form-data` whose "Presentation" part is the HTML and other parts are images it names
 *   as `name:{part}` (onenote-create-page.md). 201 with the page's metadata.
 * - `GET .../pages/{id}/content` answers the output HTML (`includeIDs=true` adds the generated ids);
 *   `PATCH .../pages/{id}/content` applies an array of change commands, 204 (page-update.md,
 *   onenote-update-page.md; html.ts).
 * - Pages can be found by title: `GET .../pages?$filter=contains(tolower(title),'...')`.
 * - Names: a notebook's displayName is unique for the user (409, code 20117) and has at most 128
 *   characters without ? * / : < > | ' " (onenote errors: 20115, 20117).
 * - Errors carry OneNote's numeric codes (https://learn.microsoft.com/graph/onenote-error-codes):
 *   20102 for an unknown id, 20117 for a name in use, 20121/20124/20125 for bad page updates.
 * - Delegated Notes.Read / Notes.ReadWrite (Notes.Create to create only); personal accounts too.
 * Not emulated: notebook copy (an asynchronous operation), OneNote in SharePoint sites and groups.
 */
import { randomUUID } from 'node:crypto';
import type { Sandbox } from '../../context';
import { empty, type SandboxResponse } from '../../http';
import { entityResponse, graphRoute, graphState, type GraphCtx } from '../core';
import { GraphHttpError } from '../errors';
import { collection } from '../paging';
import type { ChangeStore, CollectionRef, Entity } from '../store';
import {
  applyCommands,
  outputHtml,
  PageHtmlError,
  pageFromInput,
  parseCommands,
  type PageHtml,
} from './html';

const READ = { anyOf: ['Notes.Read', 'Notes.Create'], app: ['Notes.Read.All', 'Notes.ReadWrite.All'] };
const CREATE = { anyOf: ['Notes.Create', 'Notes.ReadWrite'], app: ['Notes.ReadWrite.All'] };
const WRITE = { anyOf: ['Notes.ReadWrite'], app: ['Notes.ReadWrite.All'] };

export const ONENOTE_COLLECTIONS = {
  notebooks: 'onenoteNotebooks',
  sectionGroups: 'onenoteSectionGroups',
  sections: 'onenoteSections',
  pages: 'onenotePages',
} as const;

interface Refs {
  notebooks: CollectionRef;
  sectionGroups: CollectionRef;
  sections: CollectionRef;
  pages: CollectionRef;
}

function refsFor(store: ChangeStore, userId: string): Refs {
  const none = { etag: 'none' as const };
  return {
    notebooks: store.collection(userId, ONENOTE_COLLECTIONS.notebooks, none),
    sectionGroups: store.collection(userId, ONENOTE_COLLECTIONS.sectionGroups, none),
    sections: store.collection(userId, ONENOTE_COLLECTIONS.sections, none),
    pages: store.collection(userId, ONENOTE_COLLECTIONS.pages, none),
  };
}

const notFound = () => new GraphHttpError(404, '20102', 'The specified resource ID does not exist.');
const bad = (code: string, message: string) => new GraphHttpError(400, code, message);

/** OneNote ids: `1-` and a GUID (pages: `1-{guid}!{n}-{guid}` in Graph; the shape is opaque). */
const newId = () => `1-${randomUUID()}`;
const CONTENT = '__content';
const NAME_RULES = /[?*/:<>|'"\\]/;

function base(ctx: GraphCtx): string {
  return `${ctx.sandbox.graphBaseUrl}/users/${ctx.user!.id}/onenote`;
}

function links(kind: string, id: string, name: string) {
  const web = `https://contoso-my.sharepoint.com/onenote/${kind}/${encodeURIComponent(id)}`;
  return {
    oneNoteClientUrl: { href: `onenote:${web}?name=${encodeURIComponent(name)}` },
    oneNoteWebUrl: { href: web },
  };
}

function identity(ctx: GraphCtx) {
  const u = ctx.caller ?? ctx.user!;
  return { user: { id: u.id, displayName: u.displayName } };
}

function strip(entity: Entity): Record<string, unknown> {
  const { [CONTENT]: _c, ...rest } = entity;
  return rest;
}

function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || !name.trim()) throw bad('20119', `${what} displayName is required.`);
  if (name.length > 128) throw bad('20115', `${what} displayName must be at most 128 characters.`);
  if (NAME_RULES.test(name))
    throw bad('20115', `${what} displayName cannot contain ? * / : < > | ' " or \\.`);
  return name;
}

function nameInUse(items: Entity[], name: string): boolean {
  return items.some((i) => String(i.displayName).toLowerCase() === name.toLowerCase());
}

const find = (store: ChangeStore, ref: CollectionRef, id: string): Entity => {
  const e = store.get(ref, id);
  if (!e) throw notFound();
  return e;
};

/** The section's parents as Graph shows them (parentNotebook, parentSectionGroup). */
function parentOf(ctx: GraphCtx, refs: Refs, holder: Entity) {
  const store = ctx.graph.store;
  const notebook = store.get(refs.notebooks, String(holder.notebookId));
  const group =
    typeof holder.sectionGroupId === 'string'
      ? store.get(refs.sectionGroups, holder.sectionGroupId)
      : undefined;
  return {
    parentNotebook: notebook
      ? { id: notebook.id, displayName: notebook.displayName, self: `${base(ctx)}/notebooks/${notebook.id}` }
      : null,
    parentSectionGroup: group
      ? { id: group.id, displayName: group.displayName, self: `${base(ctx)}/sectionGroups/${group.id}` }
      : null,
  };
}

function renderNotebook(ctx: GraphCtx, nb: Entity) {
  return {
    ...strip(nb),
    self: `${base(ctx)}/notebooks/${nb.id}`,
    sectionsUrl: `${base(ctx)}/notebooks/${nb.id}/sections`,
    sectionGroupsUrl: `${base(ctx)}/notebooks/${nb.id}/sectionGroups`,
  };
}

function renderSection(ctx: GraphCtx, refs: Refs, s: Entity) {
  const { notebookId: _n, sectionGroupId: _g, ...rest } = strip(s);
  return {
    ...rest,
    self: `${base(ctx)}/sections/${s.id}`,
    pagesUrl: `${base(ctx)}/sections/${s.id}/pages`,
    ...parentOf(ctx, refs, s),
  };
}

function renderGroup(ctx: GraphCtx, refs: Refs, g: Entity) {
  const { notebookId: _n, sectionGroupId: _g, ...rest } = strip(g);
  return {
    ...rest,
    self: `${base(ctx)}/sectionGroups/${g.id}`,
    sectionsUrl: `${base(ctx)}/sectionGroups/${g.id}/sections`,
    sectionGroupsUrl: `${base(ctx)}/sectionGroups/${g.id}/sectionGroups`,
    ...parentOf(ctx, refs, g),
  };
}

function renderPage(ctx: GraphCtx, refs: Refs, p: Entity): Record<string, unknown> {
  const { sectionId: _s, ...rest } = strip(p);
  const section = ctx.graph.store.get(refs.sections, String(p.sectionId));
  return {
    ...rest,
    self: `${base(ctx)}/pages/${p.id}`,
    contentUrl: `${base(ctx)}/pages/${p.id}/content`,
    parentSection: section
      ? { id: section.id, displayName: section.displayName, self: `${base(ctx)}/sections/${section.id}` }
      : null,
  };
}

const LIST = { kind: 'skiptoken' as const, supports: { count: true }, maxTop: 100, defaultTop: 20 };

function route(
  sandbox: Sandbox,
  method: string,
  pattern: string,
  scopes: typeof READ,
  handler: (ctx: GraphCtx, refs: Refs) => Promise<SandboxResponse> | SandboxResponse,
): void {
  graphRoute(
    sandbox,
    method,
    `/me/onenote${pattern}`,
    { scopes, workload: 'generic', throttle: 'none' },
    (ctx) => handler(ctx, refsFor(ctx.graph.store, ctx.user!.id)),
  );
}

/** The page HTML of a create request: text/html, or the "Presentation" part of multipart/form-data. */
async function createBody(ctx: GraphCtx): Promise<string> {
  const type = String(ctx.headers['content-type'] ?? '').toLowerCase();
  const raw = await ctx.body();
  if (type.startsWith('text/html') || type.startsWith('application/xhtml+xml')) return raw.toString('utf8');
  if (type.startsWith('multipart/form-data')) {
    let form: FormData;
    try {
      form = await new Response(new Uint8Array(raw), {
        headers: { 'content-type': String(ctx.headers['content-type']) },
      }).formData();
    } catch {
      throw bad('20001', 'The multipart body could not be read.');
    }
    const presentation = form.get('Presentation');
    if (presentation === null)
      throw bad(
        '20011',
        'A multipart request to create a page needs a part named "Presentation" with the HTML.',
      );
    const html = typeof presentation === 'string' ? presentation : await presentation.text();
    // Images named as name:{part} must come with their part (onenote-images-files.md).
    for (const m of html.matchAll(/src="name:([^"]+)"/g)) {
      if (!form.get(m[1]!))
        throw bad('20011', `The HTML names a part "${m[1]}" that the request does not have.`);
    }
    return html;
  }
  throw new GraphHttpError(415, '20008', 'Create a page with Content-Type text/html or multipart/form-data.');
}

export function installOneNote(sandbox: Sandbox): void {
  // ---- notebooks (onenote-list-notebooks.md, onenote-post-notebooks.md)
  route(sandbox, 'GET', '/notebooks', READ, (ctx, refs) =>
    collection(
      ctx,
      ctx.graph.store.list(refs.notebooks).map((n) => renderNotebook(ctx, n)),
      LIST,
    ),
  );
  route(sandbox, 'POST', '/notebooks', WRITE, async (ctx, refs) => {
    const body = (await ctx.json<Record<string, unknown>>()) ?? {};
    const name = checkName(body.displayName, 'The notebook');
    if (nameInUse(ctx.graph.store.list(refs.notebooks), name))
      throw new GraphHttpError(409, '20117', 'An item with this name already exists in this location.');
    const id = newId();
    const nb = ctx.graph.store.insert(refs.notebooks, {
      id,
      displayName: name,
      isDefault: false,
      isShared: false,
      userRole: 'Owner',
      createdBy: identity(ctx),
      lastModifiedBy: identity(ctx),
      links: links('notebook', id, name),
    });
    return entityResponse(ctx, renderNotebook(ctx, nb), { status: 201 });
  });
  route(sandbox, 'GET', '/notebooks/:notebookId', READ, (ctx, refs) =>
    entityResponse(ctx, renderNotebook(ctx, find(ctx.graph.store, refs.notebooks, ctx.params.notebookId!))),
  );

  // ---- sections and section groups, in a notebook or a section group
  const sectionsOf = (refs: Refs, store: ChangeStore, where: { notebookId?: string; groupId?: string }) =>
    store
      .list(refs.sections)
      .filter((s) =>
        where.groupId
          ? s.sectionGroupId === where.groupId
          : where.notebookId
            ? s.notebookId === where.notebookId && !s.sectionGroupId
            : true,
      );
  const groupsOf = (refs: Refs, store: ChangeStore, where: { notebookId?: string; groupId?: string }) =>
    store
      .list(refs.sectionGroups)
      .filter((g) =>
        where.groupId
          ? g.sectionGroupId === where.groupId
          : where.notebookId
            ? g.notebookId === where.notebookId && !g.sectionGroupId
            : true,
      );

  route(sandbox, 'GET', '/sections', READ, (ctx, refs) =>
    collection(
      ctx,
      sectionsOf(refs, ctx.graph.store, {}).map((s) => renderSection(ctx, refs, s)),
      LIST,
    ),
  );
  route(sandbox, 'GET', '/sectionGroups', READ, (ctx, refs) =>
    collection(
      ctx,
      groupsOf(refs, ctx.graph.store, {}).map((g) => renderGroup(ctx, refs, g)),
      LIST,
    ),
  );
  for (const [holder, key] of [
    ['notebooks', 'notebookId'],
    ['sectionGroups', 'groupId'],
  ] as const) {
    route(sandbox, 'GET', `/${holder}/:id/sections`, READ, (ctx, refs) => {
      find(ctx.graph.store, refs[holder], ctx.params.id!);
      const where = { [key]: ctx.params.id! };
      return collection(
        ctx,
        sectionsOf(refs, ctx.graph.store, where).map((s) => renderSection(ctx, refs, s)),
        LIST,
      );
    });
    route(sandbox, 'GET', `/${holder}/:id/sectionGroups`, READ, (ctx, refs) => {
      find(ctx.graph.store, refs[holder], ctx.params.id!);
      const where = { [key]: ctx.params.id! };
      return collection(
        ctx,
        groupsOf(refs, ctx.graph.store, where).map((g) => renderGroup(ctx, refs, g)),
        LIST,
      );
    });
    for (const [kind, ref] of [
      ['sections', 'sections'],
      ['sectionGroups', 'sectionGroups'],
    ] as const) {
      route(sandbox, 'POST', `/${holder}/:id/${kind}`, WRITE, async (ctx, refs) => {
        const parent = find(ctx.graph.store, refs[holder], ctx.params.id!);
        const body = (await ctx.json<Record<string, unknown>>()) ?? {};
        const what = kind === 'sections' ? 'The section' : 'The section group';
        const name = checkName(body.displayName, what);
        const where = { [key]: parent.id };
        const siblings =
          kind === 'sections'
            ? sectionsOf(refs, ctx.graph.store, where)
            : groupsOf(refs, ctx.graph.store, where);
        if (nameInUse(siblings, name))
          throw new GraphHttpError(409, '20117', 'An item with this name already exists in this location.');
        const id = newId();
        const created = ctx.graph.store.insert(refs[ref], {
          id,
          displayName: name,
          ...(kind === 'sections' ? { isDefault: false } : {}),
          createdBy: identity(ctx),
          lastModifiedBy: identity(ctx),
          ...(kind === 'sections' ? { links: links('section', id, name) } : {}),
          notebookId: holder === 'notebooks' ? parent.id : parent.notebookId,
          ...(holder === 'sectionGroups' ? { sectionGroupId: parent.id } : {}),
        });
        const rendered =
          kind === 'sections' ? renderSection(ctx, refs, created) : renderGroup(ctx, refs, created);
        return entityResponse(ctx, rendered, { status: 201 });
      });
    }
  }
  route(sandbox, 'GET', '/sections/:sectionId', READ, (ctx, refs) =>
    entityResponse(
      ctx,
      renderSection(ctx, refs, find(ctx.graph.store, refs.sections, ctx.params.sectionId!)),
    ),
  );

  // ---- pages (section-list-pages.md, section-post-pages.md, page-get.md, page-update.md, page-delete.md)
  const pagesList = (ctx: GraphCtx, refs: Refs, sectionId?: string) => {
    const pages = ctx.graph.store
      .list(refs.pages)
      .filter((p) => sectionId === undefined || p.sectionId === sectionId)
      .map((p) => renderPage(ctx, refs, p));
    return collection(ctx, pages, {
      ...LIST,
      // Newest first by default (page list: "lastModifiedDateTime desc").
      defaultOrder: (a, b) => String(b.lastModifiedDateTime).localeCompare(String(a.lastModifiedDateTime)),
    });
  };
  route(sandbox, 'GET', '/pages', READ, (ctx, refs) => pagesList(ctx, refs));
  route(sandbox, 'GET', '/sections/:sectionId/pages', READ, (ctx, refs) => {
    find(ctx.graph.store, refs.sections, ctx.params.sectionId!);
    return pagesList(ctx, refs, ctx.params.sectionId);
  });
  route(sandbox, 'POST', '/sections/:sectionId/pages', CREATE, async (ctx, refs) => {
    const section = find(ctx.graph.store, refs.sections, ctx.params.sectionId!);
    const page = pageFromInput(await createBody(ctx));
    const siblings = ctx.graph.store.list(refs.pages).filter((p) => p.sectionId === section.id);
    const id = newId();
    const created = ctx.graph.store.insert(refs.pages, {
      id,
      title: page.title,
      level: 0,
      order: siblings.length,
      createdByAppId: `WLID-${ctx.auth.clientId}`,
      links: links('page', id, page.title),
      sectionId: section.id,
      [CONTENT]: page,
    });
    return entityResponse(ctx, renderPage(ctx, refs, created), { status: 201 });
  });
  route(sandbox, 'GET', '/pages/:pageId', READ, (ctx, refs) =>
    entityResponse(ctx, renderPage(ctx, refs, find(ctx.graph.store, refs.pages, ctx.params.pageId!))),
  );
  route(sandbox, 'GET', '/pages/:pageId/content', READ, (ctx, refs) => {
    const page = find(ctx.graph.store, refs.pages, ctx.params.pageId!);
    const includeIds = (ctx.query.get('includeIDs') ?? '').toLowerCase() === 'true';
    const html = outputHtml(page[CONTENT] as PageHtml, String(page.createdDateTime), includeIds);
    return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: Buffer.from(html) };
  });
  route(sandbox, 'PATCH', '/pages/:pageId/content', WRITE, async (ctx, refs) => {
    const page = find(ctx.graph.store, refs.pages, ctx.params.pageId!);
    let updated: PageHtml;
    try {
      updated = applyCommands(page[CONTENT] as PageHtml, parseCommands(await ctx.json()));
    } catch (err) {
      if (err instanceof PageHtmlError) throw bad(err.code, err.message);
      throw err;
    }
    ctx.graph.store.update(refs.pages, page.id, { [CONTENT]: updated, title: updated.title });
    return empty(204);
  });
  route(sandbox, 'DELETE', '/pages/:pageId', WRITE, (ctx, refs) => {
    const page = find(ctx.graph.store, refs.pages, ctx.params.pageId!);
    ctx.graph.store.remove(refs.pages, page.id);
    return empty(204);
  });
}

/** Demo data: Adele's default notebook with a "Quick Notes" section and one page. */
export function seedOneNote(sandbox: Sandbox): void {
  const adele = sandbox.directory.findUser('adele.vance@contoso.test');
  if (!adele) return;
  const store = graphState(sandbox).store;
  const refs = refsFor(store, adele.id);
  if (store.list(refs.notebooks).length > 0) return;
  const created = '2025-01-06T09:00:00.000Z';
  const who = { user: { id: adele.id, displayName: adele.displayName } };
  const nb = store.insert(refs.notebooks, {
    id: '1-adele-notebook-0001',
    displayName: "Adele's Notebook",
    isDefault: true,
    isShared: false,
    userRole: 'Owner',
    createdBy: who,
    lastModifiedBy: who,
    links: links('notebook', '1-adele-notebook-0001', "Adele's Notebook"),
    createdDateTime: created,
  });
  const section = store.insert(refs.sections, {
    id: '1-adele-quick-notes-0001',
    displayName: 'Quick Notes',
    isDefault: true,
    createdBy: who,
    lastModifiedBy: who,
    links: links('section', '1-adele-quick-notes-0001', 'Quick Notes'),
    notebookId: nb.id,
    createdDateTime: created,
  });
  const page = pageFromInput(
    '<html><head><title>Launch ideas</title></head><body><p>Pop-up store in the lobby.</p><ul data-id="ideas"><li>Demo stations</li><li>Raffle</li></ul></body></html>',
  );
  store.insert(refs.pages, {
    id: '1-adele-page-launch-ideas',
    title: page.title,
    level: 0,
    order: 0,
    createdByAppId: 'WLID-0000000048184CB9',
    links: links('page', '1-adele-page-launch-ideas', page.title),
    sectionId: section.id,
    createdDateTime: created,
    [CONTENT]: page,
  });
}
