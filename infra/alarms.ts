import { Duration } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Alarm, ComparisonOperator, Metric, TreatMissingData, type AlarmProps } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { METRIC, metricsNamespace } from '../functions/runtime/metric-names.js';
import { FUNCTIONS } from './functions.js';
import type { StackSettings } from './settings.js';

export interface AlarmedResources {
  api: RestApi;
  chat: IFunction;
  threadsList: IFunction;
  threadsDelete: IFunction;
  messages: IFunction;
  authorizer: IFunction;
}

const period = Duration.minutes(5);

/** A metric the functions emit themselves (functions/runtime/metric-names.ts). */
export function ownMetric(settings: StackSettings, service: string, metricName: string, statistic = 'Sum'): Metric {
  return new Metric({ namespace: metricsNamespace(settings.stageName), metricName, dimensionsMap: { service }, statistic, period });
}

/**
 * The alarms, each sent to the topic when it fires and when it clears: each one is something an
 * operator should look at. Not the authorizer's Errors: every refused token is one (a 401 is
 * signalled by throwing).
 */
export function alarms(
  scope: Construct,
  settings: StackSettings,
  topic: ITopic,
  { api, chat, threadsList, threadsDelete, messages, authorizer }: AlarmedResources,
): Alarm[] {
  const notify = new SnsAction(topic);
  const alarm = (id: string, props: Omit<AlarmProps, 'evaluationPeriods'>) => {
    const created = new Alarm(scope, id, { treatMissingData: TreatMissingData.NOT_BREACHING, evaluationPeriods: 1, ...props });
    created.addAlarmAction(notify);
    created.addOkAction(notify);
    return created;
  };
  const created = [alarm('Api5xxAlarm', { metric: api.metricServerError({ period }), threshold: 5, alarmDescription: 'API answered 5xx' })];
  for (const [name, f] of Object.entries({ chat, threadsList, threadsDelete, messages })) {
    created.push(alarm(`${name}ErrorsAlarm`, { metric: f.metricErrors({ period }), threshold: 1, alarmDescription: `${name} function errors (crashes, timeouts, failed cold starts)` }));
  }
  for (const [name, f] of Object.entries({ chat, threadsList, threadsDelete, messages, authorizer })) {
    created.push(alarm(`${name}ThrottlesAlarm`, { metric: f.metricThrottles({ period }), threshold: 1, alarmDescription: `${name} function throttled` }));
  }
  created.push(
    alarm('AuthorizerFailuresAlarm', {
      metric: ownMetric(settings, 'chatkit-authorizer', METRIC.authorizerFailures),
      threshold: 1,
      alarmDescription: 'The authorizer failed for a reason other than a refused token (its secret, its settings): callers get 500',
    }),
    alarm('AuthorizerDurationAlarm', {
      metric: authorizer.metricDuration({ period, statistic: 'Maximum' }),
      threshold: FUNCTIONS.authorizer.timeout.toMilliseconds() * 0.8,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      alarmDescription: 'The authorizer came close to its timeout (a slow JWKS endpoint or Secrets Manager)',
    }),
    alarm('ChatDurationAlarm', {
      metric: chat.metricDuration({ period, statistic: 'Maximum' }),
      threshold: settings.chatTimeout.toMilliseconds() * 0.9,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      alarmDescription: 'A chat turn came close to the function timeout',
    }),
  );
  return created;
}
