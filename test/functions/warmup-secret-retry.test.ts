import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/backends.js';
import { secretAnswer, startSecretsExtension, type SecretsExtensionStandIn } from '../support/secrets-extension.js';

let testDb: TestDatabase;
let extension: SecretsExtensionStandIn;
beforeAll(async () => {
  testDb = await createTestDatabase();
  extension = await startSecretsExtension();
});
afterAll(async () => {
  await extension?.close();
  await testDb?.drop();
});

it('reads the database secret again on the next ping after a failed read', async () => {
  Object.assign(process.env, { DATABASE_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chatkit/database-AbCdEf', POWERTOOLS_LOG_LEVEL: 'ERROR' });
  delete process.env.DATABASE_URL;
  extension.script({ status: 500 }, secretAnswer({ DATABASE_URL: testDb.url }));
  const { handler } = await import('../../functions/warmup.js');
  expect(await handler()).toMatchObject({ ok: false });
  expect(await handler()).toMatchObject({ ok: true });
});
