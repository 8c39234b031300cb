import { registerServiceActions } from '../../shared/actions/http';
import { loadService } from '../../shared/services';

/** calendar actions: POST /api/calendar/{action} (see GET /api/openapi.json). */
registerServiceActions('calendar', loadService);
