import { databaseOptionsFromEnv, type DatabaseOptions } from '../../shared/db/connect.js';

/**
 * The database options of a deployed function. Without a URL the shared code would fall back to
 * the embedded PGlite, which is for local development and not in the bundle: say what is missing
 * instead of "Cannot find package @electric-sql/pglite".
 */
export function lambdaDatabaseOptions(purpose: 'app' | 'migrate', env: NodeJS.ProcessEnv = process.env): DatabaseOptions {
  const options = databaseOptionsFromEnv(env, purpose);
  const wanted = purpose === 'migrate' ? 'DATABASE_URL_UNPOOLED (or DATABASE_URL)' : 'DATABASE_URL';
  if (options.driver === 'pglite') throw new Error(`DATABASE_DRIVER=pglite is for local development; a deployed function needs ${wanted}`);
  if (!options.url) {
    const source = env.DATABASE_SECRET_ARN ? `the secret ${env.DATABASE_SECRET_ARN}` : 'the database secret (DATABASE_SECRET_ARN is not set either)';
    throw new Error(`${wanted} is not set: ${source} must hold it (see docs/deploy.md, "Secrets")`);
  }
  return options;
}
