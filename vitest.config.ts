import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { configDefaults, defineConfig } from 'vitest/config';

// aws-lambda-ric, Lambda's own runtime client, runs the built functions in the suites that use
// test/support/lambda-process.ts. It is an optional dependency (its install builds a native addon
// with cmake, make and g++, and does not build on macOS), so that `npm install` never fails for
// it; where it is missing those suites are left out, and said so. Under CI it must be there.
const runtimeClient = existsSync('node_modules/aws-lambda-ric/rapid-client.node');
if (!runtimeClient && process.env.CI === 'true') {
  throw new Error('aws-lambda-ric is not installed (its install needs cmake, make, g++ and python3): under CI every suite must run');
}
const needRuntimeClient = runtimeClient
  ? []
  : readdirSync('test', { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.test.ts') && readFileSync(`test/${file}`, 'utf8').includes('support/lambda-process.js'))
      .map((file) => `test/${file}`);
if (needRuntimeClient.length) {
  console.warn(`\n*** aws-lambda-ric is not installed: SKIPPED ${needRuntimeClient.join(', ')} (install cmake, make, g++, then npm install) ***\n`);
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...needRuntimeClient],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Under CI nothing may be skipped silently.
    allowOnly: false,
    // Metrics (EMF lines on stdout) only where a test captures them.
    env: { POWERTOOLS_LOG_LEVEL: 'WARN', POWERTOOLS_METRICS_DISABLED: 'true' },
  },
});
