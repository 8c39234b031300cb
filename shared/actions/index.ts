/** The actions framework's registry (services declare into it; shared/services loads them). */
export { allActions, actionsOf, getAction, actionName } from './registry';
