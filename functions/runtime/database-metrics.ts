import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { DatabaseOptions } from '../../shared/db/connect.js';
import { METRIC } from './metric-names.js';
import { metrics } from './metrics.js';

let roundTrips = 0;
let reconnects = 0;

/**
 * openDatabase's callbacks, counting what one invocation costs the database: round trips (every
 * statement, BEGIN and COMMIT included) and connections dropped while idle (Neon suspending its
 * compute, a pooler restarting), each of which makes the next query reconnect.
 */
export function databaseObservers(logger: Pick<Logger, 'warn'>): Pick<DatabaseOptions, 'onQuery' | 'onIdleError'> {
  return {
    onQuery: () => void roundTrips++,
    onIdleError: (error) => {
      reconnects++;
      logger.warn('an idle database connection was dropped; the next query reconnects', { error: error.message });
    },
  };
}

/** Adds this invocation's counts to its metrics, then starts counting afresh. */
export function recordDatabaseMetrics(): void {
  if (roundTrips > 0) metrics.addMetric(METRIC.databaseRoundTrips, MetricUnit.Count, roundTrips);
  if (reconnects > 0) metrics.addMetric(METRIC.databaseReconnects, MetricUnit.Count, reconnects);
  roundTrips = 0;
  reconnects = 0;
}
