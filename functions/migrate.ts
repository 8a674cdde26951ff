import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { databaseOptionsFromEnv, openDatabase } from '../shared/db/connect.js';
import { migrateToLatest } from '../shared/db/migrate.js';
import { createLogger } from '../shared/log.js';
import { loadSecretsIntoEnv } from './runtime/secrets.js';

const logger = createLogger('chatkit-migrate');

/**
 * The migration custom resource (onEvent of a CDK Provider). Create and Update apply pending
 * migrations over the direct, unpooled URL; Delete leaves the data alone. A failure throws, and
 * the Provider reports it to CloudFormation, which rolls the deployment back.
 */
export async function handler(event: CloudFormationCustomResourceEvent) {
  const physicalId = 'chatkit-migrations';
  if (event.RequestType === 'Delete') {
    logger.info('stack delete: the data is kept');
    return { PhysicalResourceId: physicalId };
  }
  await loadSecretsIntoEnv();
  const database = await openDatabase(databaseOptionsFromEnv(process.env, 'migrate'));
  try {
    const { applied } = await migrateToLatest(database.db);
    logger.info('migrations applied', { applied });
    return { PhysicalResourceId: physicalId, Data: { Applied: applied.length } };
  } finally {
    await database.close();
  }
}
