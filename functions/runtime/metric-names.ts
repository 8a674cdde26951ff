/**
 * The functions' own CloudWatch metrics, by name: the functions emit them (EMF), the stack's
 * alarms and dashboard read them. Namespace `ChatKit/<stage>`, dimension `service`
 * (the function's POWERTOOLS_SERVICE_NAME).
 */
export const METRIC = {
  // the authorizer
  tokensRefused: 'TokensRefused',
  authorizerFailures: 'AuthorizerFailures',
  // a chat turn
  turns: 'Turns',
  timeToFirstToken: 'TimeToFirstToken',
  turnDuration: 'TurnDuration',
  toolCalls: 'ToolCalls',
  turnErrors: 'TurnErrors',
  turnCancelled: 'TurnCancelled',
  turnTimedOut: 'TurnTimedOut',
  modelInputTokens: 'ModelInputTokens',
  modelOutputTokens: 'ModelOutputTokens',
  // every function that uses the database, per invocation
  databaseRoundTrips: 'DatabaseRoundTrips',
  databaseReconnects: 'DatabaseReconnects',
} as const;

/** The dimension that splits TurnErrors by the error event's code. */
export const ERROR_CODE_DIMENSION = 'code';

export const metricsNamespace = (stageName: string) => `ChatKit/${stageName}`;
