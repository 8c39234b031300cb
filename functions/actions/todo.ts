import { registerServiceActions } from '../../shared/actions/http';
import { loadService } from '../../shared/services';

/** todo actions: POST /api/todo/{action} (see GET /api/openapi.json). */
registerServiceActions('todo', loadService);
