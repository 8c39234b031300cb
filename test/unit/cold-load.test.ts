/**
 * A cold instance builds only what it serves: loading every function (as the host does at start)
 * declares no service actions; each service's declarations load on its first request
 * (shared/services/index.ts). A function file that imported shared/services/all would undo that
 * for every instance (bench core: "cold start").
 */
import type { Action } from '../../shared/actions/types';

test('loading every function declares no service actions yet', () => {
  jest.isolateModules(() => {
    const { loadFunctions } =
      require('../../shared/runtime/load') as typeof import('../../shared/runtime/load');
    const registrations = loadFunctions();
    expect(registrations.length).toBeGreaterThan(10);
    const registry = require('../../shared/actions/registry') as { allActions: () => Action[] };
    expect(registry.allActions().map((a) => a.id)).toEqual([]);
  });
});
