/**
 * The actions over HTTP: `POST /api/<service>/<action>` (and GET for read actions declared so),
 * one function per service listed in shared/services/index.ts (`mailActions`, `calendarActions`,
 * ...). Each loads its service's declarations on its first request. See GET /api/openapi.json.
 */
import { registerServiceActions } from '../shared/actions/http';
import { loadService, SERVICES } from '../shared/services';

for (const service of SERVICES) registerServiceActions(service, loadService);
