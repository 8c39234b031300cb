/** Every declared action, by id. Service modules call defineAction at load time. */
import type { z } from 'zod';
import type { Action } from './types';

const actions = new Map<string, Action>();

export function defineAction<S extends z.ZodType, O>(action: Action<S, O>): Action<S, O> {
  if (actions.has(action.id)) throw new Error(`Action ${action.id} is declared twice`);
  if (!/^[a-z]+\.[a-z][A-Za-z]+$/.test(action.id))
    throw new Error(`Action id ${action.id} must look like service.verbNoun`);
  actions.set(action.id, action);
  return action;
}

export function getAction(id: string): Action | undefined {
  return actions.get(id);
}

export function allActions(): Action[] {
  return [...actions.values()].sort((a, b) => a.id.localeCompare(b.id));
}

export function actionsOf(service: string): Action[] {
  return allActions().filter((a) => a.service === service);
}

/** The path segment of an action under its service route: `mail.sendMessage` → `sendMessage`. */
export function actionName(action: Action): string {
  return action.id.slice(action.id.indexOf('.') + 1);
}
