import { registerServiceActions } from '../../shared/actions/http';

/** teams actions: POST /api/teams/{action} (see GET /api/openapi.json). */
registerServiceActions('teams');
