import { registerServiceActions } from '../../shared/actions/http';

/** todo actions: POST /api/todo/{action} (see GET /api/openapi.json). */
registerServiceActions('todo');
