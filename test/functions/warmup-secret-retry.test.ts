import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/backends.js';

const getSecret = vi.hoisted(() => vi.fn());
vi.mock('@aws-lambda-powertools/parameters/secrets', () => ({ getSecret }));

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(() => testDb?.drop());

it('reads the database secret again on the next ping after a failed read', async () => {
  Object.assign(process.env, { DATABASE_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chatkit/database-AbCdEf', POWERTOOLS_LOG_LEVEL: 'ERROR' });
  delete process.env.DATABASE_URL;
  getSecret.mockRejectedValueOnce(new Error('Rate exceeded')).mockResolvedValue({ DATABASE_URL: testDb.url });
  const { handler } = await import('../../functions/warmup.js');
  expect(await handler()).toMatchObject({ ok: false });
  expect(await handler()).toMatchObject({ ok: true });
});
