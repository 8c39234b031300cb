import { registerServiceActions } from '../../shared/actions/http';

/** profile actions: POST /api/profile/{action} (see GET /api/openapi.json). */
registerServiceActions('profile');
