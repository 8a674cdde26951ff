import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

// The project runs on Node 24 (the `node` devDependency that npm puts first on PATH): a suite run
// by another Node proves nothing about the one Lambda (nodejs24.x) and the bench run.
it('runs on Node 24 or later, as package.json requires', () => {
  const required = (JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } }).engines.node;
  expect(required).toBe('>=24');
  expect(Number(process.versions.node.split('.')[0]), `the suite runs on Node ${process.version}`).toBeGreaterThanOrEqual(24);
});
