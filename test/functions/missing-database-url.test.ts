import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';

// A deployed function whose database secret lacks the URL (or was never configured).
beforeEach(() => {
  for (const name of ['DATABASE_URL', 'DATABASE_URL_UNPOOLED', 'DATABASE_DRIVER', 'DATABASE_SECRET_ARN']) delete process.env[name];
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});

describe('a function without DATABASE_URL', () => {
  it('a route function fails its cold start saying which setting is missing, not "Cannot find package @electric-sql/pglite"', async () => {
    await expect(import('../../functions/threads-list.js')).rejects.toThrow(/^DATABASE_URL is not set: the database secret \(DATABASE_SECRET_ARN is not set either\) must hold it/);
  });

  it('the migration custom resource fails the deploy with the same message', async () => {
    const { handler } = await import('../../functions/migrate.js');
    const event = { RequestType: 'Create', ResourceProperties: {} } as unknown as CloudFormationCustomResourceEvent;
    await expect(handler(event)).rejects.toThrow(/^DATABASE_URL_UNPOOLED \(or DATABASE_URL\) is not set/);
  });

  it('names the secret that should hold it, and refuses the local-only PGlite driver', async () => {
    const { lambdaDatabaseOptions } = await import('../../functions/runtime/lambda-database.js');
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chatkit/database-AbCdEf';
    expect(() => lambdaDatabaseOptions('app', { DATABASE_SECRET_ARN: arn })).toThrow(`DATABASE_URL is not set: the secret ${arn} must hold it`);
    expect(() => lambdaDatabaseOptions('app', { DATABASE_DRIVER: 'pglite' })).toThrow(/pglite is for local development/);
    expect(lambdaDatabaseOptions('migrate', { DATABASE_URL: 'postgres://h/db' }).url).toBe('postgres://h/db');
  });
});
