/**
 * Control routes for the Graph core (under /_sandbox/, tests and demos only): seed and change
 * store items directly, expire delta tokens, and tune throttling and batching at runtime.
 */
import type { Ctx, Sandbox } from '../context';
import { empty, json } from '../http';
import { graphState } from './core';
import type { EtagStyle } from './store';
import type { ThrottleSettings } from './throttle';

export function installGraphControl(sandbox: Sandbox): void {
  const c = sandbox.control;
  const state = () => graphState(sandbox);
  const userId = (ctx: Ctx): string | undefined => sandbox.directory.findUser(ctx.params.userId ?? '')?.id;

  // POST /_sandbox/store/{user}/{collection}: body is an item, an array, or {items, etag}.
  // Collection names with ':' (todoTasks:{listId}) go percent-encoded in the path.
  c.on('POST', '/store/:userId/:collection', async (ctx) => {
    const uid = userId(ctx);
    if (!uid) return json(404, { error: 'user (id or UPN) not found' });
    const body = await ctx.json<unknown>();
    let items: Array<Record<string, unknown>>;
    let etag: EtagStyle | undefined;
    if (Array.isArray(body)) items = body as Array<Record<string, unknown>>;
    else if (body && typeof body === 'object' && Array.isArray((body as { items?: unknown }).items)) {
      items = (body as { items: Array<Record<string, unknown>> }).items;
      etag = (body as { etag?: EtagStyle }).etag;
    } else items = [body as Record<string, unknown>];
    const store = state().store;
    const ref = store.collection(uid, ctx.params.collection ?? '', etag ? { etag } : {});
    try {
      const created = items.map((item) => store.insert(ref, item));
      return json(201, { value: created, seq: store.seq });
    } catch (err) {
      return json(409, { error: (err as Error).message });
    }
  });

  c.on('GET', '/store/:userId/:collection', (ctx) => {
    const uid = userId(ctx);
    if (!uid) return json(404, { error: 'user (id or UPN) not found' });
    const store = state().store;
    const ref = store.collection(uid, ctx.params.collection ?? '');
    return json(200, { value: store.list(ref), seq: store.seq });
  });

  c.on('PATCH', '/store/:userId/:collection/:id', async (ctx) => {
    const uid = userId(ctx);
    if (!uid) return json(404, { error: 'user (id or UPN) not found' });
    const store = state().store;
    const ref = store.collection(uid, ctx.params.collection ?? '');
    const updated = store.update(ref, ctx.params.id ?? '', await ctx.json<Record<string, unknown>>());
    return updated ? json(200, updated) : json(404, { error: 'no such item' });
  });

  c.on('DELETE', '/store/:userId/:collection/:id', (ctx) => {
    const uid = userId(ctx);
    if (!uid) return json(404, { error: 'user (id or UPN) not found' });
    const store = state().store;
    const ref = store.collection(uid, ctx.params.collection ?? '');
    return store.remove(ref, ctx.params.id ?? '') ? empty(204) : json(404, { error: 'no such item' });
  });

  // Expire delta tokens (reference §5.1 item 7): {userId?, collection?}; both absent = all.
  c.on('POST', '/delta/invalidate', async (ctx) => {
    const body = await ctx.json<{ userId?: string; collection?: string }>();
    let uid: string | undefined;
    if (body.userId) {
      uid = sandbox.directory.findUser(body.userId)?.id;
      if (!uid) return json(404, { error: 'user (id or UPN) not found' });
    }
    const hit = state().store.invalidate({
      ...(uid ? { userId: uid } : {}),
      ...(body.collection ? { name: body.collection } : {}),
    });
    return json(200, { invalidated: hit });
  });

  c.on('GET', '/throttle', () => json(200, state().throttle.settings));
  c.on('PUT', '/throttle', async (ctx) => {
    const body = await ctx.json<Partial<ThrottleSettings> & { reset?: boolean }>();
    const { reset, ...patch } = body;
    const settings = state().throttle.update(patch);
    if (reset) state().throttle.resetCounters();
    return json(200, settings);
  });

  c.on('GET', '/batch', () => json(200, state().batch));
  c.on('PUT', '/batch', async (ctx) => {
    const body = await ctx.json<{ shuffle?: boolean; maxConcurrency?: number }>();
    const batch = state().batch;
    if (typeof body.shuffle === 'boolean') batch.shuffle = body.shuffle;
    if (typeof body.maxConcurrency === 'number' && body.maxConcurrency > 0)
      batch.maxConcurrency = body.maxConcurrency;
    return json(200, batch);
  });
}
