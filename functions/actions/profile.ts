import { registerServiceActions } from '../../shared/actions/http';
import { loadService } from '../../shared/services';

/** profile actions: POST /api/profile/{action} (see GET /api/openapi.json). */
registerServiceActions('profile', loadService);
