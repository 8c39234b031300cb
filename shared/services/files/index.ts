/**
 * OneDrive actions: browse (children, item, search, recent, shared with me), stream downloads and
 * uploads of any size (upload.ts), folders, rename/move/copy/delete, and sharing links.
 * Graph reference §8.3 (driveItem) and https://learn.microsoft.com/graph/api/resources/driveitem.
 */
import { documentText, readDocumentBytes } from '../../content/text';
import { READ_TEXT_RULES, sliceInputFields, sliceOf, sliceOutputFields, sliceStart } from '../document-text';
import { z } from 'zod';
import type { GraphError } from '../../graph/errors';
import { pathFunctionString } from '../../graph/odata';
import { Problem } from '../../http/problem';
import { headerText } from '../../http/validate';
import { decodeCursor, toPage } from '../../actions/cursor';
import { pageOf, untrusted } from '../../actions/output';
import {
  driveBase,
  driveOf,
  FileItemSchema,
  itemUrl,
  oneDrive,
  type DriveAddress,
  oneAddress,
  pathSegments,
  PermissionSchema,
  toFileItem,
  toPermission,
  type FileItem,
} from './map';
import { uploadStream } from './upload';
import { defineAction } from '../../actions/registry';
import { RawResult, type ActionContext, type Page } from '../../actions/types';

const READ_SCOPES = ['Files.Read'];
const WRITE_SCOPES = ['Files.ReadWrite'];

const itemId = z.string().min(1).max(400).describe('The drive item id (from a listing, search or upload).');
const path = z
  .string()
  .min(1)
  .max(1024)
  .describe('Path from the drive root, e.g. "/Projects/plan.docx" (folders separated by "/").');
const driveId = z
  .string()
  .min(1)
  .max(400)
  .describe(
    'Drive id: a SharePoint document library (from sharepoint.listLibraries) or another user’s drive (from a shared or remote item); omit for the user’s own OneDrive.',
  );
const siteId = z
  .string()
  .min(1)
  .max(400)
  .describe(
    'SharePoint site id (from sharepoint.searchSites or sharepoint.getSite): work in the site’s default document library ("Documents") instead of the user’s OneDrive.',
  );
/** Every files action works in the user's OneDrive, a library (driveId) or a site's library (siteId). */
const drive = { driveId: driveId.optional(), siteId: siteId.optional() };
const cursor = z
  .string()
  .min(1)
  .max(4096)
  .describe('nextCursor from the previous page; other fields are then ignored.');
const top = z.number().int().min(1).max(1000).describe('Page size (default 200).');
const conflictBehavior = z
  .enum(['fail', 'replace', 'rename'])
  .describe(
    'When the name exists: fail (409 conflict), replace (overwrite) or rename (keep both, "name 1.ext").',
  );

const FileItemPage = pageOf(FileItemSchema);

/** Conflicts, locks and a full drive, in words a caller can act on (reference §1.2, §8.3). */
function filesMapError(err: GraphError): Problem | undefined {
  const graph = { graphCode: err.code, ...(err.requestId ? { graphRequestId: err.requestId } : {}) };
  if (err.status === 409 && err.code === 'nameAlreadyExists') {
    return new Problem(
      'conflict',
      'An item with this name already exists there. Choose another name, or use conflictBehavior "replace" or "rename".',
      graph,
    );
  }
  if (err.status === 423) {
    return new Problem(
      'conflict',
      'The file is locked (checked out or open for co-authoring); retry later.',
      graph,
    );
  }
  if (err.status === 507) {
    return new Problem(
      'payload_too_large',
      "The user's OneDrive is full (quotaLimitReached).",
      graph,
      {},
      507,
    );
  }
  return undefined;
}

function page(actionId: string, body: unknown): Page<FileItem> {
  return toPage(actionId, body, toFileItem);
}

/** The item an action works on by id: recorded for the audit log, addressed in the user's drive. */
function targetItem(ctx: ActionContext, itemId: string, drive: DriveAddress): string {
  ctx.targets.push(itemId);
  return itemUrl({ itemId, ...driveOf(drive) });
}

// ---------------------------------------------------------------- browse

// https://learn.microsoft.com/graph/api/driveitem-list-children
defineAction({
  id: 'files.listChildren',
  service: 'files',
  summary: "List a folder's files and subfolders",
  description:
    'Lists the items in a OneDrive folder, addressed by path ("/Projects") or itemId (default: the drive root), optionally sorted by name, modification time or size. Returns a page of items (id, name, kind file/folder, size, path, modifiedAt, webUrl) and nextCursor when more exist. Use it to browse; use files.search to find by name or content.',
  input: z
    .object({
      path: path.optional(),
      itemId: itemId.optional(),
      ...drive,
      orderBy: z.enum(['name', 'modifiedAt', 'size']).optional().describe('Sort key (default name).'),
      descending: z.boolean().optional().describe('Sort descending.'),
      top: top.optional(),
      cursor: cursor.optional(),
    })
    .strict()
    .refine((v) => !(v.path !== undefined && v.itemId !== undefined), oneAddress.message)
    .refine(oneDrive.check, oneDrive.message),
  output: FileItemPage,
  feature: 'files',
  scopes: READ_SCOPES,
  kind: 'read',
  idempotent: true,
  toGraph: (input) => {
    if (input.cursor) return { method: 'GET', url: decodeCursor('files.listChildren', input.cursor) };
    const key = { name: 'name', modifiedAt: 'lastModifiedDateTime', size: 'size' }[input.orderBy ?? 'name'];
    return {
      method: 'GET',
      url: `${itemUrl(input)}/children`,
      query: {
        $top: input.top,
        ...(input.orderBy || input.descending
          ? { $orderby: `${key}${input.descending ? ' desc' : ''}` }
          : {}),
      },
    };
  },
  fromGraph: (res) => page('files.listChildren', res.body),
  mapError: filesMapError,
});

// https://learn.microsoft.com/graph/api/driveitem-get
defineAction({
  id: 'files.getItem',
  service: 'files',
  summary: 'Get one file or folder',
  description:
    'Returns the metadata of a OneDrive file or folder by path ("/Reports/q3.pdf") or itemId: name, kind, size, mime type, path, parent, modification time and author, eTag and quickXorHash. Use it to check that a file exists or to get its id before other actions.',
  input: z
    .object({ path: path.optional(), itemId: itemId.optional(), ...drive })
    .strict()
    .refine(oneAddress.check, oneAddress.message)
    .refine(oneDrive.check, oneDrive.message),
  output: FileItemSchema,
  feature: 'files',
  scopes: READ_SCOPES,
  kind: 'read',
  idempotent: true,
  toGraph: (input, ctx) => {
    if (input.itemId) ctx.targets.push(input.itemId);
    return { method: 'GET', url: itemUrl(input) };
  },
  fromGraph: (res) => toFileItem(res.body),
  mapError: filesMapError,
});

// https://learn.microsoft.com/graph/api/driveitem-search
defineAction({
  id: 'files.search',
  service: 'files',
  summary: 'Search the drive by name and content',
  description:
    "Searches the user's OneDrive (file names, metadata and content) plus files others shared with the user (those come back with remote=true and their driveId). Returns a page of items and nextCursor. An empty page means nothing matched; the index can lag a few minutes behind new files.",
  input: z
    .object({
      query: z.string().min(1).max(512).describe('Words to search for.'),
      ...drive,
      top: top.optional(),
      cursor: cursor.optional(),
    })
    .strict()
    .refine(oneDrive.check, oneDrive.message),
  output: FileItemPage,
  feature: 'files',
  scopes: READ_SCOPES,
  kind: 'read',
  idempotent: true,
  toGraph: (input) =>
    input.cursor
      ? { method: 'GET', url: decodeCursor('files.search', input.cursor) }
      : {
          method: 'GET',
          url:
            input.driveId || input.siteId
              ? `${driveBase(input)}/root/search(q=${pathFunctionString(input.query)})`
              : `/me/drive/search(q=${pathFunctionString(input.query)})`,
          query: { $top: input.top },
        },
  fromGraph: (res) => page('files.search', res.body),
  mapError: filesMapError,
});

// https://learn.microsoft.com/graph/api/drive-recent
defineAction({
  id: 'files.listRecent',
  service: 'files',
  summary: 'List recently used files',
  description:
    'Lists the files the user worked on most recently, newest first. Use it for "the document I was just editing". Returns a page of items (no further pages).',
  input: z.object({}).strict(),
  output: FileItemPage,
  feature: 'files',
  scopes: READ_SCOPES,
  kind: 'read',
  idempotent: true,
  toGraph: () => ({ method: 'GET', url: '/me/drive/recent' }),
  fromGraph: (res) => page('files.listRecent', res.body),
  mapError: filesMapError,
});

// https://learn.microsoft.com/graph/api/drive-sharedwithme
defineAction({
  id: 'files.listSharedWithMe',
  service: 'files',
  summary: 'List files others shared with the user',
  description:
    'Lists files and folders other people shared with the user. Each item has remote=true and the driveId to pass (with its id) to files.getItem, files.listChildren or files.download. Returns a page and nextCursor.',
  input: z.object({ top: top.optional(), cursor: cursor.optional() }).strict(),
  output: FileItemPage,
  feature: 'files',
  scopes: ['Files.Read.All'],
  kind: 'read',
  idempotent: true,
  toGraph: (input) =>
    input.cursor
      ? { method: 'GET', url: decodeCursor('files.listSharedWithMe', input.cursor) }
      : { method: 'GET', url: '/me/drive/sharedWithMe', query: { $top: input.top } },
  fromGraph: (res) => page('files.listSharedWithMe', res.body),
  mapError: filesMapError,
});

// ---------------------------------------------------------------- content

const PASS_HEADERS = [
  'content-type',
  'content-length',
  'content-range',
  'accept-ranges',
  'content-disposition',
  'etag',
];

// https://learn.microsoft.com/graph/api/driveitem-get-content
defineAction({
  id: 'files.download',
  service: 'files',
  summary: "Download a file's content",
  description:
    'Streams the bytes of a OneDrive file (by path or itemId; driveId for shared items) as the HTTP response body, with its content type and name. Any size: nothing is buffered. A Range header is passed on (206 partial content). With redirect=true the answer is instead a 302 to a short-lived pre-authenticated download URL (valid about an hour; do not store it).',
  input: z
    .object({
      path: path.optional(),
      itemId: itemId.optional(),
      ...drive,
      redirect: z
        .stringbool()
        .optional()
        .describe('true: answer 302 to the pre-authenticated URL instead of streaming.'),
    })
    .strict()
    .refine(oneAddress.check, oneAddress.message)
    .refine(oneDrive.check, oneDrive.message),
  feature: 'files',
  scopes: READ_SCOPES,
  kind: 'read',
  idempotent: true,
  httpMethod: 'GET',
  run: async (input, ctx) => {
    if (input.itemId) ctx.targets.push(input.itemId);
    // Graph answers 302 to a pre-authenticated URL; graphRaw does not follow redirects, so the
    // user's token never reaches the download host (reference §8.3, §9 RedirectHandler).
    const res = await ctx.graphRaw({ method: 'GET', url: `${itemUrl(input)}/content` });
    const location = res.headers.get('location');
    if (res.status !== 302 || !location)
      return new RawResult({ status: res.status, headers: passHeaders(res), body: res.body ?? undefined });
    await res.body?.cancel().catch(() => undefined);
    if (new URL(location).protocol !== 'https:')
      throw new Problem('upstream_error', 'OneDrive gave a download URL that is not https.');
    if (input.redirect) {
      return new RawResult({ status: 302, headers: { location, 'cache-control': 'no-store' } });
    }
    const range = ctx.headers.get('range');
    let file: Response;
    try {
      file = await fetch(location, { headers: range ? { range } : {} });
    } catch {
      throw new Problem('upstream_unavailable', 'The OneDrive download host did not answer; retry.', {
        retryable: true,
      });
    }
    if (file.status === 416) {
      await file.body?.cancel();
      throw new Problem(
        'invalid_input',
        'The requested Range is outside the file.',
        { errors: [{ field: 'range', message: 'not satisfiable' }] },
        { 'content-range': file.headers.get('content-range') ?? '' },
        416,
      );
    }
    if (file.status !== 200 && file.status !== 206) {
      await file.body?.cancel();
      throw new Problem(
        'upstream_unavailable',
        `The OneDrive download host answered ${file.status}; retry.`,
        { retryable: true },
      );
    }
    return new RawResult({
      status: file.status,
      headers: { ...passHeaders(file), 'cache-control': 'no-store' },
      body: file.body ?? undefined,
    });
  },
  mapError: filesMapError,
});

function passHeaders(res: Response): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PASS_HEADERS) {
    const value = res.headers.get(name);
    if (value) out[name] = value;
  }
  return out;
}

// https://learn.microsoft.com/graph/api/driveitem-get: files carry @microsoft.graph.downloadUrl, a
// pre-authenticated URL valid for a short time ("the URL is only valid for a short period of
// time"); it needs no token, so it is handed out instead of bytes where JSON is the only channel (MCP).
defineAction({
  id: 'files.getDownloadLink',
  service: 'files',
  summary: 'Get a short-lived download link for a file',
  description:
    'Returns a pre-authenticated download URL for a OneDrive file (valid for a short time, about an hour; anyone holding it can download the file, so hand it only to the user) with the file name, size and type. Use it to give the user a file; to read a document yourself use files.readText.',
  input: z
    .object({ path: path.optional(), itemId: itemId.optional(), ...drive })
    .strict()
    .refine(oneAddress.check, oneAddress.message)
    .refine(oneDrive.check, oneDrive.message),
  output: z.object({
    id: z.string(),
    name: untrusted(z.string(), 'file'),
    size: z.number().nullable(),
    mimeType: z.string().nullable(),
    url: z.string().describe('Pre-authenticated: no token needed, expires after a short time.'),
  }),
  feature: 'files',
  scopes: READ_SCOPES,
  kind: 'read',
  idempotent: true,
  run: async (input, ctx) => {
    const res = await ctx.graph({ method: 'GET', url: itemUrl(input) });
    const item = toFileItem(res.body);
    ctx.targets.push(item.id);
    const url = (res.body as Record<string, unknown>)['@microsoft.graph.downloadUrl'];
    if (item.kind === 'folder' || typeof url !== 'string') {
      throw new Problem(
        'invalid_input',
        `${item.name || '/'} is a folder: only files have a download link.`,
        {
          errors: [{ field: input.itemId ? 'itemId' : 'path', message: 'names a folder, not a file' }],
        },
      );
    }
    return { id: item.id, name: item.name, size: item.size, mimeType: item.mimeType, url };
  },
  mapError: filesMapError,
});

/** The bytes of a file through its pre-authenticated URL (the token never goes there). */
async function fileBytes(ctx: ActionContext, url: string): Promise<Uint8Array> {
  const res = await ctx.graphRaw({ method: 'GET', url: `${url}/content` });
  const location = res.headers.get('location');
  await res.body?.cancel().catch(() => undefined);
  if (res.status !== 302 || !location || new URL(location).protocol !== 'https:')
    throw new Problem('upstream_error', `OneDrive answered ${res.status} without a download URL.`);
  let file: Response;
  try {
    file = await fetch(location);
  } catch {
    throw new Problem('upstream_unavailable', 'The OneDrive download host did not answer; retry.', {
      retryable: true,
    });
  }
  if (file.status !== 200) {
    await file.body?.cancel();
    throw new Problem('upstream_unavailable', `The OneDrive download host answered ${file.status}; retry.`, {
      retryable: true,
    });
  }
  return await readDocumentBytes(file.body);
}

// Text extraction: shared/content/text.ts (PDF, Word, HTML, text formats).
defineAction({
  id: 'files.readText',
  service: 'files',
  summary: 'Read a document as text (PDF, Word, HTML, text)',
  description: `Returns a OneDrive file's content as readable text. ${READ_TEXT_RULES}`,
  input: z
    .object({
      path: path.optional(),
      itemId: itemId.optional(),
      ...drive,
      ...sliceInputFields,
    })
    .strict()
    .refine(oneAddress.check, oneAddress.message)
    .refine(oneDrive.check, oneDrive.message),
  output: z.object({ id: z.string(), ...sliceOutputFields('file') }),
  feature: 'files',
  scopes: READ_SCOPES,
  kind: 'read',
  idempotent: true,
  run: async (input, ctx) => {
    const url = itemUrl(input);
    const meta = await ctx.graph({ method: 'GET', url, query: { $select: 'id,name,file,folder,size' } });
    const item = toFileItem(meta.body);
    ctx.targets.push(item.id);
    if (item.kind === 'folder')
      throw new Problem('invalid_input', `${item.name || '/'} is a folder: list it instead.`, {
        errors: [{ field: input.itemId ? 'itemId' : 'path', message: 'names a folder, not a file' }],
      });
    const offset = sliceStart(input, item.id);
    const doc = await documentText(await fileBytes(ctx, url), item.name, item.mimeType);
    return { id: item.id, ...sliceOf(doc, item.name, item.id, offset, input.maxChars) };
  },
  mapError: filesMapError,
});

// https://learn.microsoft.com/graph/api/driveitem-put-content, driveitem-createuploadsession
defineAction({
  id: 'files.upload',
  service: 'files',
  summary: 'Upload a file of any size to a path',
  description:
    'Uploads the raw HTTP request body as a file at `path` (query parameters; missing folders are created). Any size: small files go in one request, larger ones through a resumable OneDrive upload session in 320 KiB-multiple chunks, resumed after errors without re-sending completed chunks. Send Content-Length (or the size parameter) for files of 4 MiB or more. conflictBehavior decides what happens when the name exists (default fail). Returns the uploaded item.',
  input: z
    .object({
      ...drive,
      path: path.describe('Target path including the file name, e.g. "/Reports/q3.pdf".'),
      conflictBehavior: conflictBehavior.default('fail'),
      size: z.coerce
        .number()
        .int()
        .min(0)
        .optional()
        .describe('Size in bytes when Content-Length is not sent.'),
    })
    .strict()
    .refine(oneDrive.check, oneDrive.message),
  output: FileItemSchema,
  feature: 'files',
  scopes: WRITE_SCOPES,
  kind: 'write',
  idempotent: false,
  streamBody: true,
  run: async (input, ctx) => {
    const segments = pathSegments(input.path);
    if (segments.length === 0) {
      throw new Problem('invalid_input', 'path must name a file.', {
        errors: [{ field: 'path', message: 'names no file' }],
      });
    }
    if (!ctx.bodyStream) {
      throw new Problem('invalid_input', 'Send the file as the request body.', {
        errors: [{ field: '(body)', message: 'is empty' }],
      });
    }
    const header = ctx.headers.get('content-length');
    const size = input.size ?? (header !== null && /^\d+$/.test(header) ? Number(header) : undefined);
    const result = await uploadStream(ctx, {
      targetUrl: itemUrl({ path: input.path, ...driveOf(input) }),
      conflictBehavior: input.conflictBehavior,
      body: ctx.bodyStream,
      ...(size !== undefined ? { size } : {}),
    });
    const item = toFileItem(result.item);
    ctx.targets.push(item.id);
    ctx.log.log(
      JSON.stringify({
        event: 'files_upload',
        fragments: result.fragments,
        resumes: result.resumes,
        restarts: result.restarts,
      }),
    );
    return item;
  },
  mapError: filesMapError,
});

// ---------------------------------------------------------------- organise

async function postFolder(
  ctx: ActionContext,
  drive: DriveAddress,
  parent: string[],
  name: string,
  behavior: 'fail' | 'rename',
) {
  return await ctx.graph({
    method: 'POST',
    url: `${itemUrl({ path: `/${parent.join('/')}`, ...driveOf(drive) })}/children`,
    body: { name, folder: {}, '@microsoft.graph.conflictBehavior': behavior },
  });
}

async function existingFolder(
  ctx: ActionContext,
  drive: DriveAddress,
  segments: string[],
): Promise<FileItem> {
  const item = toFileItem(
    (await ctx.graph({ method: 'GET', url: itemUrl({ path: `/${segments.join('/')}`, ...driveOf(drive) }) }))
      .body,
  );
  if (item.kind !== 'folder') {
    throw new Problem('conflict', `"/${segments.join('/')}" exists and is a file, not a folder.`);
  }
  return item;
}

const status = (err: unknown) => (err as { status?: number }).status;

/** Creates a folder path level by level (mkdir -p); existing levels are reused. */
async function ensureFolder(ctx: ActionContext, drive: DriveAddress, segments: string[]): Promise<void> {
  if (segments.length === 0) return;
  const parent = segments.slice(0, -1);
  const name = segments[segments.length - 1] as string;
  try {
    await postFolder(ctx, drive, parent, name, 'fail');
  } catch (err) {
    if (status(err) === 409) {
      await existingFolder(ctx, drive, segments);
      return;
    }
    if (status(err) !== 404) throw err;
    await ensureFolder(ctx, drive, parent);
    try {
      await postFolder(ctx, drive, parent, name, 'fail');
    } catch (again) {
      if (status(again) !== 409) throw again;
      await existingFolder(ctx, drive, segments);
    }
  }
}

// https://learn.microsoft.com/graph/api/driveitem-post-children
defineAction({
  id: 'files.createFolder',
  service: 'files',
  summary: 'Create a folder (and missing parents)',
  description:
    'Creates a folder at `path` ("/Clients/Contoso/2025"), creating missing parent folders. If the folder already exists: useExisting (default) returns it, fail answers 409 conflict, rename creates "name 1". Returns the folder and created=true/false.',
  input: z
    .object({
      ...drive,
      path: path.describe('Folder path to create, e.g. "/Clients/Contoso".'),
      conflictBehavior: z
        .enum(['useExisting', 'fail', 'rename'])
        .default('useExisting')
        .describe('When the folder exists.'),
    })
    .strict()
    .refine(oneDrive.check, oneDrive.message),
  output: FileItemSchema.extend({ created: z.boolean() }),
  feature: 'files',
  scopes: WRITE_SCOPES,
  kind: 'write',
  idempotent: true,
  run: async (input, ctx) => {
    const segments = pathSegments(input.path);
    if (segments.length === 0) {
      throw new Problem('invalid_input', 'path must name a folder below the root.', {
        errors: [{ field: 'path', message: 'is the root' }],
      });
    }
    const parent = segments.slice(0, -1);
    const name = segments[segments.length - 1] as string;
    const behavior = input.conflictBehavior === 'rename' ? 'rename' : 'fail';
    const create = async () => toFileItem((await postFolder(ctx, input, parent, name, behavior)).body);
    let folder: FileItem;
    try {
      folder = await create();
    } catch (err) {
      if (status(err) === 409 && input.conflictBehavior === 'useExisting') {
        const existing = await existingFolder(ctx, input, segments);
        ctx.targets.push(existing.id);
        return { ...existing, created: false };
      }
      if (status(err) !== 404) throw err;
      await ensureFolder(ctx, input, parent);
      folder = await create();
    }
    ctx.targets.push(folder.id);
    return { ...folder, created: true };
  },
  mapError: filesMapError,
});

// https://learn.microsoft.com/graph/api/driveitem-update
defineAction({
  id: 'files.renameItem',
  service: 'files',
  summary: 'Rename a file or folder',
  description:
    'Gives a OneDrive item a new name in the same folder. Fails with 409 conflict when the name is taken, unless conflictBehavior is rename or replace. Returns the renamed item.',
  input: z
    .object({
      ...drive,
      itemId,
      name: z.string().min(1).max(255).describe('The new name, with extension for files.'),
      conflictBehavior: conflictBehavior.default('fail'),
    })
    .strict()
    .refine(oneDrive.check, oneDrive.message),
  output: FileItemSchema,
  feature: 'files',
  scopes: WRITE_SCOPES,
  kind: 'write',
  idempotent: true,
  toGraph: (input, ctx) => {
    return {
      method: 'PATCH',
      url: targetItem(ctx, input.itemId, input),
      query: { '@microsoft.graph.conflictBehavior': input.conflictBehavior },
      body: { name: input.name },
    };
  },
  fromGraph: (res) => toFileItem(res.body),
  mapError: filesMapError,
});

const destination = {
  destinationFolderId: itemId.optional().describe('Id of the folder to put the item in.'),
  destinationPath: path
    .optional()
    .describe('Path of the folder to put the item in, e.g. "/Archive" ("/" = root).'),
};
const oneDestination = {
  check: (v: { destinationFolderId?: string | undefined; destinationPath?: string | undefined }) =>
    (v.destinationFolderId === undefined) !== (v.destinationPath === undefined),
  message: {
    message: 'Give exactly one of destinationFolderId or destinationPath.',
    path: ['destinationFolderId'],
  },
};

async function destinationFolder(
  ctx: ActionContext,
  input: { destinationFolderId?: string | undefined; destinationPath?: string | undefined } & DriveAddress,
): Promise<FileItem> {
  const address = input.destinationFolderId
    ? { itemId: input.destinationFolderId, ...driveOf(input) }
    : { path: input.destinationPath ?? '/', ...driveOf(input) };
  const res = await ctx.graph({ method: 'GET', url: itemUrl(address, 'destinationPath') });
  const folder = toFileItem(res.body);
  if (folder.kind !== 'folder') {
    throw new Problem('invalid_input', 'The destination is a file, not a folder.', {
      errors: [
        {
          field: input.destinationFolderId ? 'destinationFolderId' : 'destinationPath',
          message: 'is not a folder',
        },
      ],
    });
  }
  return folder;
}

// https://learn.microsoft.com/graph/api/driveitem-move
defineAction({
  id: 'files.moveItem',
  service: 'files',
  summary: 'Move a file or folder to another folder',
  description:
    'Moves a OneDrive item into another folder (by destinationFolderId or destinationPath), optionally renaming it. Fails with 409 conflict when the destination has an item of that name, unless conflictBehavior is rename or replace. Returns the moved item with its new path.',
  input: z
    .object({
      ...drive,
      itemId,
      ...destination,
      name: z.string().min(1).max(255).optional().describe('New name (optional).'),
      conflictBehavior: conflictBehavior.default('fail'),
    })
    .strict()
    .refine(oneDestination.check, oneDestination.message)
    .refine(oneDrive.check, oneDrive.message),
  output: FileItemSchema,
  feature: 'files',
  scopes: WRITE_SCOPES,
  kind: 'write',
  idempotent: true,
  run: async (input, ctx) => {
    const url = targetItem(ctx, input.itemId, input);
    const folder = await destinationFolder(ctx, input);
    const res = await ctx.graph({
      method: 'PATCH',
      url,
      query: { '@microsoft.graph.conflictBehavior': input.conflictBehavior },
      body: { parentReference: { id: folder.id }, ...(input.name ? { name: input.name } : {}) },
    });
    return toFileItem(res.body);
  },
  mapError: filesMapError,
});

const MonitorSchema = z
  .object({
    status: z.string(),
    percentageComplete: z.number().optional(),
    resourceId: z.string().optional(),
    error: z.object({ code: z.string(), message: z.string() }).partial().optional(),
  })
  .passthrough();

// https://learn.microsoft.com/graph/api/driveitem-copy, https://learn.microsoft.com/graph/long-running-actions-overview
defineAction({
  id: 'files.copyItem',
  service: 'files',
  summary: 'Copy a file or folder',
  description:
    "Copies a OneDrive item (folders with everything inside) into a folder, optionally under a new name. OneDrive copies in the background: this action follows the copy's progress for up to waitSeconds (default 30) and returns status completed with the new item, or inProgress with percentageComplete if it takes longer. A name clash fails with 409 conflict unless conflictBehavior is rename or replace.",
  input: z
    .object({
      ...drive,
      itemId,
      ...destination,
      name: z.string().min(1).max(255).optional().describe('Name of the copy (default: the same name).'),
      conflictBehavior: conflictBehavior.default('fail'),
      waitSeconds: z
        .number()
        .int()
        .min(0)
        .max(60)
        .default(30)
        .describe('How long to follow the copy before answering inProgress.'),
    })
    .strict()
    .refine(oneDestination.check, oneDestination.message)
    .refine(oneDrive.check, oneDrive.message),
  output: z.object({
    status: z.enum(['completed', 'inProgress']),
    percentageComplete: z.number().nullable(),
    item: FileItemSchema.nullable(),
  }),
  feature: 'files',
  scopes: WRITE_SCOPES,
  kind: 'write',
  idempotent: false,
  run: async (input, ctx) => {
    const url = targetItem(ctx, input.itemId, input);
    const folder = await destinationFolder(ctx, input);
    const res = await ctx.graph({
      method: 'POST',
      url: `${url}/copy`,
      query: { '@microsoft.graph.conflictBehavior': input.conflictBehavior },
      body: {
        parentReference: { id: folder.id, ...(folder.driveId ? { driveId: folder.driveId } : {}) },
        ...(input.name ? { name: input.name } : {}),
      },
    });
    const monitor = res.headers.get('location');
    if (!monitor || new URL(monitor).protocol !== 'https:')
      throw new Problem('upstream_error', 'OneDrive accepted the copy without a monitor URL.');
    const deadline = Date.now() + input.waitSeconds * 1000;
    let delay = 250;
    let percentage: number | null = null;
    for (;;) {
      // The monitor URL is pre-authenticated and not Graph: plain fetch, no token.
      const state = await fetch(monitor, { signal: AbortSignal.timeout(15_000) }).catch(() => undefined);
      const body = state ? MonitorSchema.safeParse(await state.json().catch(() => undefined)) : undefined;
      if (body?.success) {
        percentage = body.data.percentageComplete ?? percentage;
        if (body.data.status === 'completed' && body.data.resourceId) {
          ctx.targets.push(body.data.resourceId);
          const item = await ctx.graph({
            method: 'GET',
            url: itemUrl({
              itemId: body.data.resourceId,
              ...(folder.driveId ? { driveId: folder.driveId } : {}),
            }),
          });
          return { status: 'completed' as const, percentageComplete: 100, item: toFileItem(item.body) };
        }
        if (body.data.status === 'failed') {
          const code = body.data.error?.code ?? 'copyFailed';
          if (code === 'nameAlreadyExists') {
            throw new Problem(
              'conflict',
              'The destination already has an item with that name. Use conflictBehavior "rename" or "replace", or give another name.',
              { graphCode: code },
            );
          }
          throw new Problem('upstream_error', `OneDrive could not copy the item (${code}).`, {
            graphCode: code,
          });
        }
      }
      if (Date.now() + delay > deadline)
        return { status: 'inProgress' as const, percentageComplete: percentage, item: null };
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(2000, delay * 2);
    }
  },
  mapError: filesMapError,
});

// https://learn.microsoft.com/graph/api/driveitem-delete
defineAction({
  id: 'files.deleteItem',
  service: 'files',
  summary: 'Delete a file or folder (to the recycle bin)',
  description:
    'Deletes a OneDrive item; folders go with everything inside. The item moves to the recycle bin, where the user can restore it. Pass eTag to delete only if the item did not change since it was read (412 precondition_failed otherwise).',
  input: z
    .object({
      ...drive,
      itemId,
      eTag: headerText(200).optional().describe('Delete only if the item still has this eTag.'),
    })
    .strict()
    .refine(oneDrive.check, oneDrive.message),
  output: z.object({ id: z.string(), deleted: z.literal(true) }),
  feature: 'files',
  scopes: WRITE_SCOPES,
  kind: 'destructive',
  idempotent: true,
  toGraph: (input, ctx) => {
    return {
      method: 'DELETE',
      url: targetItem(ctx, input.itemId, input),
      ...(input.eTag ? { headers: { 'If-Match': input.eTag } } : {}),
    };
  },
  fromGraph: (_res, input) => ({ id: input.itemId, deleted: true as const }),
  mapError: filesMapError,
});

// ---------------------------------------------------------------- sharing

// https://learn.microsoft.com/graph/api/driveitem-createlink
defineAction({
  id: 'files.createLink',
  service: 'files',
  summary: 'Create a sharing link (view or edit)',
  description:
    'Creates a sharing link for a OneDrive item: type view (read-only) or edit, scope organization (people in the tenant, work accounts only) or anonymous (anyone with the link; admins may disable it, then 403), with an optional expiry. If a link of that type and scope exists it is returned instead (created=false). Returns the link URL and its permission id (for files.removePermission).',
  input: z
    .object({
      ...drive,
      itemId,
      type: z.enum(['view', 'edit']).describe('view = read-only, edit = can change the item.'),
      scope: z
        .enum(['organization', 'anonymous'])
        .default('organization')
        .describe('Who the link works for.'),
      expiresAt: z.iso
        .datetime({ offset: true })
        .optional()
        .describe('When the link stops working (ISO 8601).'),
    })
    .strict()
    .refine(oneDrive.check, oneDrive.message),
  output: z.object({
    permissionId: z.string(),
    url: z.string().nullable(),
    type: z.string(),
    scope: z.string(),
    expiresAt: z.string().nullable(),
    created: z.boolean(),
  }),
  feature: 'files',
  scopes: WRITE_SCOPES,
  kind: 'write',
  // Graph returns the existing link of that type and scope: repeating is safe.
  idempotent: true,
  toGraph: (input, ctx) => {
    return {
      method: 'POST',
      url: `${targetItem(ctx, input.itemId, input)}/createLink`,
      body: {
        type: input.type,
        scope: input.scope,
        ...(input.expiresAt ? { expirationDateTime: input.expiresAt } : {}),
      },
    };
  },
  fromGraph: (res, input) => {
    const p = toPermission(res.body);
    return {
      permissionId: p.id,
      url: p.url,
      type: p.linkType ?? input.type,
      scope: p.linkScope ?? input.scope,
      expiresAt: p.expiresAt,
      created: res.status === 201,
    };
  },
  mapError: filesMapError,
});

// https://learn.microsoft.com/graph/api/driveitem-list-permissions
defineAction({
  id: 'files.listPermissions',
  service: 'files',
  summary: 'List who can access an item',
  description:
    'Lists the permissions of a OneDrive item: the owner, sharing links (type, scope, URL, expiry) and people it was shared with, including permissions inherited from parent folders (inherited=true; remove those on the folder). Returns a page.',
  input: z
    .object({ itemId, ...drive, cursor: cursor.optional() })
    .strict()
    .refine(oneDrive.check, oneDrive.message),
  output: z.object({ items: z.array(PermissionSchema), nextCursor: z.string().optional() }),
  feature: 'files',
  scopes: READ_SCOPES,
  kind: 'read',
  idempotent: true,
  toGraph: (input, ctx) => {
    const url = `${targetItem(ctx, input.itemId, input)}/permissions`;
    return input.cursor
      ? { method: 'GET', url: decodeCursor('files.listPermissions', input.cursor) }
      : { method: 'GET', url };
  },
  fromGraph: (res) => toPage('files.listPermissions', res.body, toPermission),
  mapError: filesMapError,
});

// https://learn.microsoft.com/graph/api/permission-delete
defineAction({
  id: 'files.removePermission',
  service: 'files',
  summary: 'Remove a sharing link or person from an item',
  description:
    'Removes one permission (a sharing link or a person) from a OneDrive item, by the id from files.listPermissions or files.createLink. Inherited permissions and the owner cannot be removed here (403 forbidden).',
  input: z
    .object({ itemId, ...drive, permissionId: z.string().min(1).max(400).describe('The permission id.') })
    .strict()
    .refine(oneDrive.check, oneDrive.message),
  output: z.object({ removed: z.literal(true) }),
  feature: 'files',
  scopes: WRITE_SCOPES,
  kind: 'destructive',
  idempotent: true,
  toGraph: (input, ctx) => {
    return {
      method: 'DELETE',
      url: `${targetItem(ctx, input.itemId, input)}/permissions/${encodeURIComponent(input.permissionId)}`,
    };
  },
  fromGraph: () => ({ removed: true as const }),
  mapError: filesMapError,
});
