import { registerServiceActions } from '../../shared/actions/http';
import { loadService } from '../../shared/services';

/** mail actions: POST /api/mail/{action} (see GET /api/openapi.json). */
registerServiceActions('mail', loadService);
