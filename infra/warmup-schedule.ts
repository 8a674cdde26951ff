import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { WarmupSchedule } from './settings.js';

/** Runs the warm-up function on its schedule. */
export function warmupSchedule(scope: Construct, warmup: IFunction, schedule: WarmupSchedule): Rule {
  return new Rule(scope, 'WarmupSchedule', {
    description: 'Pings Neon so a suspended compute wakes before a user waits (keeps the compute awake: costs compute hours)',
    schedule: Schedule.expression(schedule.expression),
    targets: [new LambdaFunction(warmup, { retryAttempts: 0 })],
  });
}
