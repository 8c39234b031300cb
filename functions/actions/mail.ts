import { registerServiceActions } from '../../shared/actions/http';

/** mail actions: POST /api/mail/{action} (see GET /api/openapi.json). */
registerServiceActions('mail');
