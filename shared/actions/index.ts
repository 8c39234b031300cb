/** Loads every service's action declarations into the registry. */
import './profile';
import './mail';
import './calendar';
import './files';
import './teams';
import './contacts';
import './todo';

export { allActions, actionsOf, getAction, actionName } from './registry';
