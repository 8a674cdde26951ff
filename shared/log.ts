import { Logger } from '@aws-lambda-powertools/logger';

/** Structured JSON logs (level from LOG_LEVEL / POWERTOOLS_LOG_LEVEL). */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? serviceName });
}
