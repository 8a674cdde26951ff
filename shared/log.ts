import { Logger } from '@aws-lambda-powertools/logger';
import { redactingJsonReplacer } from './redact.js';

/**
 * Structured JSON logs (level from LOG_LEVEL / POWERTOOLS_LOG_LEVEL). Every string of every line,
 * an error's message, stack and cause included, has its signatures and tokens redacted.
 */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? serviceName, jsonReplacerFn: redactingJsonReplacer });
}
