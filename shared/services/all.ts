/** Loads every service's action declarations into the registry (tests, docs, tools). */
import { loadAllActions } from '.';

loadAllActions();
