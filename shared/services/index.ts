/**
 * Action declarations load on first use, per service: a cold instance answering a mail action
 * builds the mail schemas only (the declarations are most of the app's import time, see
 * bench/results.md "cold start"). Routes that need every action (OpenAPI, MCP, batch) load all.
 * Static require strings keep the build tools able to see every module.
 *
 * This table is the list of services: a new one is a folder here and a line below (see
 * docs/adding-a-service.md). The actions framework (shared/actions) never names a service.
 */
const loaders = {
  profile: () => void require('./profile'),
  mail: () => void require('./mail'),
  mailbox: () => void require('./mailbox'),
  calendar: () => void require('./calendar'),
  files: () => void require('./files'),
  excel: () => void require('./excel'),
  teams: () => void require('./teams'),
  contacts: () => void require('./contacts'),
  todo: () => void require('./todo'),
  search: () => void require('./search'),
  people: () => void require('./people'),
  sharepoint: () => void require('./sharepoint'),
  meetings: () => void require('./meetings'),
  planner: () => void require('./planner'),
  onenote: () => void require('./onenote'),
} satisfies Record<string, () => void>;

/** A service's name: its folder under shared/services and its route, /api/<service>/<action>. */
export type Service = keyof typeof loaders;

export const SERVICES = Object.keys(loaders) as Service[];

export function loadService(service: Service): void {
  loaders[service]();
}

export function loadAllActions(): void {
  for (const load of Object.values(loaders)) load();
}
