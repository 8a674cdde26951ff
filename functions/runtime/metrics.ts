import { Metrics } from '@aws-lambda-powertools/metrics';

/**
 * The function's metrics, written as EMF lines into its log: namespace from
 * POWERTOOLS_METRICS_NAMESPACE, dimension `service` from POWERTOOLS_SERVICE_NAME.
 */
export const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || 'ChatKit' });

/** Writes what this invocation recorded (nothing, and no warning, when it recorded nothing). */
export function publishMetrics(): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}
