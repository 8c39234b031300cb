/**
 * The OpenAPI document is generated from the declarations and valid according to an independent
 * validator (@readme/openapi-parser), with one operation per action keyed by the action id.
 */
import { validate } from '@readme/openapi-parser';
import '../../shared/services/all';
import { openApiDocument } from '../../shared/actions/openapi';
import { allActions } from '../../shared/actions/registry';

test('the document is valid OpenAPI 3.1', async () => {
  const doc = openApiDocument();
  const result = await validate(structuredClone(doc) as never);
  expect('errors' in result ? result.errors : []).toEqual([]);
  expect(result.valid).toBe(true);
  expect(doc.openapi).toBe('3.1.0');
});

test('one operation per action, with its id, kind, idempotency and feature', () => {
  const doc = openApiDocument() as { paths: Record<string, Record<string, Record<string, unknown>>> };
  const operations = Object.values(doc.paths).flatMap((p) => Object.values(p));
  for (const action of allActions()) {
    const op = operations.find((o) => o.operationId === action.id);
    expect(op).toBeDefined();
    expect(op).toMatchObject({
      'x-action-kind': action.kind,
      'x-idempotent': action.idempotent,
      'x-feature': action.feature,
    });
    expect(String(op!.description).length).toBeGreaterThan(40);
  }
  const ids = operations.map((o) => o.operationId);
  expect(new Set(ids).size).toBe(ids.length);
});

test('the validator does reject a broken document (so the first test can fail)', async () => {
  const doc = structuredClone(openApiDocument()) as Record<string, unknown>;
  delete doc.info;
  const result = await validate(doc as never);
  expect(result.valid).toBe(false);
});
