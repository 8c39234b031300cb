import { registerServiceActions } from '../../shared/actions/http';
import { loadService } from '../../shared/services';

/** contacts actions: POST /api/contacts/{action} (see GET /api/openapi.json). */
registerServiceActions('contacts', loadService);
