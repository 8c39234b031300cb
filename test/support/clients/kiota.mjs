// Microsoft's Kiota-based Graph SDK (@microsoft/msgraph-sdk), unmodified, against the sandbox.
// ESM only, so it runs in a child Node process (Jest's module system would have to rewrite it);
// test/integration/sandbox-kiota.test.ts starts it with NODE_EXTRA_CA_CERTS, the Graph base URL
// and a token, and reads one JSON line of results.
import { createGraphServiceClient, GraphRequestAdapter } from '@microsoft/msgraph-sdk';
import '@microsoft/msgraph-sdk-users';
import {
  createDriveItemCollectionResponseFromDiscriminatorValue,
  createMessageCollectionResponseFromDiscriminatorValue,
} from '@microsoft/msgraph-sdk/models/index.js';
import { createODataErrorFromDiscriminatorValue } from '@microsoft/msgraph-sdk/models/oDataErrors/index.js';
import { BatchRequestContent, PageIterator } from '@microsoft/msgraph-sdk-core';
import {
  AllowedHostsValidator,
  BaseBearerTokenAuthenticationProvider,
  HttpMethod,
  RequestInformation,
} from '@microsoft/kiota-abstractions';

const { GRAPH_BASE_URL: base, GRAPH_TOKEN: token, TO: to } = process.env;
const host = new URL(base).hostname;
const auth = new BaseBearerTokenAuthenticationProvider({
  getAuthorizationToken: async () => token,
  getAllowedHostsValidator: () => new AllowedHostsValidator(new Set([host])),
});
const adapter = new GraphRequestAdapter(auth);
adapter.baseUrl = base;
const client = createGraphServiceClient(adapter);
const out = {};
const step = async (name, fn) => {
  try {
    out[name] = await fn();
  } catch (err) {
    out[name] = {
      error: err?.constructor?.name,
      message: String(err?.message ?? err).slice(0, 300),
      code: err?.error?.code ?? err?.code,
    };
  }
};

await step('me', async () => (await client.me.get())?.userPrincipalName);
await step('paging', async () => {
  const first = await client.me.messages.get({ queryParameters: { top: 2, select: ['subject'] } });
  const subjects = [];
  const iterator = new PageIterator(
    adapter,
    first,
    (m) => {
      subjects.push(m.subject);
      return true;
    },
    createMessageCollectionResponseFromDiscriminatorValue,
    { XXX: createODataErrorFromDiscriminatorValue },
  );
  await iterator.iterate();
  return { count: subjects.length, firstPageSize: first?.value?.length };
});
await step('sendMail', async () => {
  await client.me.sendMail.post({
    message: {
      subject: 'From Kiota',
      body: { contentType: 'text', content: 'hi' },
      toRecipients: [{ emailAddress: { address: to } }],
    },
    saveToSentItems: false,
  });
  return 'sent';
});
await step(
  'events',
  async () => (await client.me.events.get({ queryParameters: { top: 5 } }))?.value?.length,
);
await step('delta', async () => {
  const page = await client.me.mailFolders
    .byMailFolderId('inbox')
    .messages.delta.get({ queryParameters: { select: ['subject'] } });
  return { items: page?.value?.length, hasLink: Boolean(page?.odataDeltaLink ?? page?.odataNextLink) };
});
await step('batch', async () => {
  const batch = new BatchRequestContent(adapter, { XXX: createODataErrorFromDiscriminatorValue });
  const profile = batch.addBatchRequest(client.me.toGetRequestInformation());
  const folders = batch.addBatchRequest(client.me.mailFolders.toGetRequestInformation());
  const response = await batch.postAsync();
  const codes = await response.getResponsesStatusCodes();
  return [codes.get(profile.id), codes.get(folders.id)];
});
await step('driveChildren', async () => {
  const drive = await client.me.drive.get();
  const drives = await client.me.drives.get();
  // Drive items live under /drives/{id}/items in the SDK, in @microsoft/msgraph-sdk-drives, which
  // the npm registry these machines reach does not carry (404). Its builder for
  // drives.byDriveId(id).items.byDriveItemId('root').children is this RequestInformation with
  // this URL template (from Graph's OpenAPI description), sent through the same Kiota adapter
  // and parsed with the SDK's own model factory.
  const info = new RequestInformation(
    HttpMethod.GET,
    '{+baseurl}/drives/{drive%2Did}/items/{driveItem%2Did}/children{?%24top}',
    { 'drive%2Did': drive.id, 'driveItem%2Did': 'root' },
  );
  info.headers.tryAdd('Accept', 'application/json');
  const page = await adapter.send(info, createDriveItemCollectionResponseFromDiscriminatorValue, {
    XXX: createODataErrorFromDiscriminatorValue,
  });
  return {
    driveId: drive.id,
    drives: drives?.value?.map((d) => d.id),
    children: page?.value?.map((i) => i.name).sort(),
  };
});
process.stdout.write(`${JSON.stringify(out)}\n`);
