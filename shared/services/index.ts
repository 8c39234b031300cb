/**
 * Action declarations load on first use, per service: a cold instance answering a mail action
 * builds the mail schemas only (the declarations are most of the app's import time, see
 * bench/results.md "cold start"). Routes that need every action (OpenAPI, MCP, batch) load all.
 * Static require strings keep the build tools able to see every module.
 */
import type { Service } from '../actions/types';

const loaders: Record<Service, () => void> = {
  profile: () => void require('./profile'),
  mail: () => void require('./mail'),
  calendar: () => void require('./calendar'),
  files: () => void require('./files'),
  teams: () => void require('./teams'),
  contacts: () => void require('./contacts'),
  todo: () => void require('./todo'),
};

export function loadService(service: Service): void {
  loaders[service]();
}

export function loadAllActions(): void {
  for (const load of Object.values(loaders)) load();
}
