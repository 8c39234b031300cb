import { registerServiceActions } from '../../shared/actions/http';

/** files actions: POST /api/files/{action} (see GET /api/openapi.json). */
registerServiceActions('files');
