import { registerServiceActions } from '../../shared/actions/http';
import { loadService } from '../../shared/services';

/** files actions: POST /api/files/{action} (see GET /api/openapi.json). */
registerServiceActions('files', loadService);
