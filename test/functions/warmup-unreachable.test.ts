import { expect, it } from 'vitest';
import { freePort } from '../../shared/db/free-port.js';

it('reports an unreachable database instead of throwing', async () => {
  process.env.DATABASE_URL = `postgres://postgres@127.0.0.1:${await freePort()}/postgres`;
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  const { handler } = await import('../../functions/warmup.js');
  const result = await handler();
  expect(result.ok).toBe(false);
  expect(typeof result.ms).toBe('number');
});
