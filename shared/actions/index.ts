/** Loads every service's action declarations into the registry (tests, docs, tools). */
import { loadAllActions } from '../services';

loadAllActions();

export { allActions, actionsOf, getAction, actionName } from './registry';
export { loadAllActions, loadService } from '../services';
