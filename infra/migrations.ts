import { CustomResource, RemovalPolicy, type CfnResource } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Provider } from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { join } from 'node:path';
import { ROOT } from './functions.js';
import { migrationsHash } from './migrations-hash.js';
import { acceptFinding, BASIC_EXECUTION_ROLE } from './nag.js';
import type { StackSettings } from './settings.js';

/**
 * Migrations applied on deploy by the migrate function, through a custom resource that runs
 * again when a migration changes or the stack points at another database; the route functions
 * go live only after it.
 */
export function migrationsOnDeploy(
  scope: Construct,
  settings: StackSettings,
  { migrate, database, routes }: { migrate: IFunction; database: ISecret; routes: IFunction[] },
): CustomResource {
  const provider = new Provider(scope, 'MigrationProvider', {
    onEventHandler: migrate,
    logGroup: new LogGroup(scope, 'MigrationProviderLogs', { retention: settings.logRetention, removalPolicy: RemovalPolicy.DESTROY }),
  });
  const migrations = new CustomResource(scope, 'Migrations', {
    serviceToken: provider.serviceToken,
    resourceType: 'Custom::ChatKitMigrations',
    properties: { MigrationsHash: migrationsHash(join(ROOT, 'migrations')), Database: database.secretArn },
  });
  for (const route of routes) {
    (route.node.defaultChild as CfnResource).addResourceDependency(migrations.node.defaultChild as CfnResource);
  }

  const framework = provider.node.findChild('framework-onEvent') as IFunction;
  acceptFinding(framework.role!, 'IAM4', 'The AWS managed basic execution role: writing its own CloudWatch Logs, nothing else.', [BASIC_EXECUTION_ROLE]);
  acceptFinding(framework.role!.node.findChild('DefaultPolicy'), 'IAM5', "The CDK Provider framework invokes the migrate function's versions and aliases (ARN:*), nothing else.", [
    { regex: '/^Resource::<MigrateFunction[0-9A-F]+\\.Arn>:\\*$/g' },
  ]);
  return migrations;
}
