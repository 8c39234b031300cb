import { registerServiceActions } from '../../shared/actions/http';
import { loadService } from '../../shared/services';

/** teams actions: POST /api/teams/{action} (see GET /api/openapi.json). */
registerServiceActions('teams', loadService);
