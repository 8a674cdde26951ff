import type { Logger } from '@aws-lambda-powertools/logger';
import { openDatabase, type Database } from '../../shared/db/connect.js';
import type { ApiOptions } from '../../shared/http/api.js';
import { corsOriginsFromEnv } from '../../shared/http/cors.js';
import { createLogger } from '../../shared/log.js';
import { PostgresStore } from '../../shared/store/postgres-store.js';
import { cachedUntilFailure } from './cached-until-failure.js';
import { databaseObservers } from './database-metrics.js';
import { lambdaDatabaseOptions } from './lambda-database.js';
import { lambdaTransport } from './lambda-transport.js';
import { loadSecretsIntoEnv } from './secrets.js';
import { tracedStore } from './traced-store.js';

export interface Runtime {
  database: Database;
  store: PostgresStore;
  logger: Logger;
  api: ApiOptions;
}

let runtime: (() => Promise<Runtime>) | undefined;

/**
 * What a route function builds once per cold start: secrets, the pooled database (its round
 * trips and dropped connections counted), the store (each call traced).
 */
export function routeRuntime(serviceName: string): Promise<Runtime> {
  runtime ??= cachedUntilFailure(async () => {
    await loadSecretsIntoEnv();
    const logger = createLogger(serviceName);
    const database = await openDatabase({ ...lambdaDatabaseOptions('app'), ...databaseObservers(logger) });
    return {
      database,
      store: tracedStore(new PostgresStore(database.db)),
      logger,
      api: { transport: lambdaTransport, logger, corsOrigins: corsOriginsFromEnv(process.env) },
    };
  });
  return runtime();
}
