import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { openDatabase } from '../shared/db/connect.js';
import { migrateUnlessAhead } from '../shared/db/migrate.js';
import { createLogger } from '../shared/log.js';
import { lambdaDatabaseOptions } from './runtime/lambda-database.js';
import { instrumented } from './runtime/invocation.js';
import { loadSecretsIntoEnv } from './runtime/secrets.js';

const logger = createLogger('chatkit-migrate');

/**
 * The migration custom resource (onEvent of a CDK Provider). Create and Update apply pending
 * migrations over the direct, unpooled URL; Delete leaves the data alone. A failure throws, and
 * the Provider reports it to CloudFormation, which rolls the deployment back.
 *
 * A database ahead of this code (older code deployed again, or a rollback's Update back to the
 * previous migrations) is a success that changes nothing: failing there would leave the stack
 * in UPDATE_ROLLBACK_FAILED.
 */
export const handler = instrumented(async (event: CloudFormationCustomResourceEvent) => {
  const physicalId = 'chatkit-migrations';
  if (event.RequestType === 'Delete') {
    logger.info('stack delete: the data is kept');
    return { PhysicalResourceId: physicalId };
  }
  await loadSecretsIntoEnv();
  const database = await openDatabase(lambdaDatabaseOptions('migrate'));
  try {
    const outcome = await migrateUnlessAhead(database.db);
    if (outcome.status === 'ahead') {
      logger.warn('the database is ahead of this code: nothing applied', { unknownMigrations: outcome.unknown });
      return { PhysicalResourceId: physicalId, Data: { Applied: 0 } };
    }
    logger.info('migrations applied', { applied: outcome.applied });
    return { PhysicalResourceId: physicalId, Data: { Applied: outcome.applied.length } };
  } finally {
    await database.close();
  }
});
