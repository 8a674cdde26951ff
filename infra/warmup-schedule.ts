import { Annotations } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { WarmupSchedule } from './settings.js';

/** Neon suspends an idle compute after this long unless the project is set otherwise. */
const NEON_DEFAULT_SUSPEND_MINUTES = 5;

/**
 * Runs the warm-up function on its schedule. It warms the Neon compute only, not the other
 * functions, and keeps that compute awake for as long as the schedule runs.
 */
export function warmupSchedule(scope: Construct, warmup: IFunction, schedule: WarmupSchedule): Rule {
  if (schedule.minutes !== undefined && schedule.minutes >= NEON_DEFAULT_SUSPEND_MINUTES) {
    Annotations.of(scope).addWarningV2(
      'chatkit:warmup-rate',
      `warmupRate ${schedule.expression} is not under Neon's default ${NEON_DEFAULT_SUSPEND_MINUTES}-minute suspend threshold: the compute can suspend between pings (fine only if your project's suspend timeout is longer)`,
    );
  }
  return new Rule(scope, 'WarmupSchedule', {
    description: 'Pings Neon so its compute stays awake (Neon only, not the functions); costs compute hours around the clock',
    schedule: Schedule.expression(schedule.expression),
    targets: [new LambdaFunction(warmup, { retryAttempts: 0 })],
  });
}
