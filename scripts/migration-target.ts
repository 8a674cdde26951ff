import { databaseOptionsFromEnv, driverFor, type DatabaseOptions } from '../shared/db/connect.js';

/** A reason `npm run migrate` will not run, in one line that says what to do. */
export class TargetError extends Error {}

/**
 * The database `npm run migrate` applies migrations to: DATABASE_URL_UNPOOLED, else DATABASE_URL.
 * Without either it refuses rather than migrate the embedded dev database behind a running
 * `npm run dev`; that one is migrated by `npm run dev` itself, or on purpose with DATABASE_DRIVER=pglite.
 */
export function migrationTarget(env: NodeJS.ProcessEnv): DatabaseOptions {
  const options = databaseOptionsFromEnv(env, 'migrate');
  if (!options.url && options.driver !== 'pglite') {
    throw new TargetError(
      'neither DATABASE_URL_UNPOOLED nor DATABASE_URL is set, so there is nothing to migrate. ' +
        '(npm run dev migrates its embedded database when it starts; to migrate that one without it, stop npm run dev and run DATABASE_DRIVER=pglite npm run migrate)',
    );
  }
  return options;
}

/** Which database that is, without its password or query string. */
export function describeTarget(options: DatabaseOptions): string {
  const driver = options.driver ?? driverFor(options.url);
  if (driver === 'pglite' || !options.url) return `the embedded PGlite database in ${options.dataDir ?? '.data'}`;
  const url = new URL(options.url);
  url.password = '';
  url.search = '';
  return `${url.toString()} (${driver} driver)`;
}
