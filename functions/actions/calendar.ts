import { registerServiceActions } from '../../shared/actions/http';

/** calendar actions: POST /api/calendar/{action} (see GET /api/openapi.json). */
registerServiceActions('calendar');
