import { registerServiceActions } from '../../shared/actions/http';

/** contacts actions: POST /api/contacts/{action} (see GET /api/openapi.json). */
registerServiceActions('contacts');
