import { Duration } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Alarm, ComparisonOperator, TreatMissingData, type AlarmProps } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { StackSettings } from './settings.js';

export interface AlarmedResources {
  api: RestApi;
  chat: IFunction;
  threadsList: IFunction;
  threadsDelete: IFunction;
  messages: IFunction;
  authorizer: IFunction;
}

/** The alarms: each one is something an operator should look at. */
export function alarms(scope: Construct, settings: StackSettings, { api, chat, threadsList, threadsDelete, messages, authorizer }: AlarmedResources): Alarm[] {
  const period = Duration.minutes(5);
  const alarm = (id: string, props: Omit<AlarmProps, 'evaluationPeriods'>) =>
    new Alarm(scope, id, { treatMissingData: TreatMissingData.NOT_BREACHING, evaluationPeriods: 1, ...props });
  const created = [alarm('Api5xxAlarm', { metric: api.metricServerError({ period }), threshold: 5, alarmDescription: 'API answered 5xx' })];
  for (const [name, f] of Object.entries({ chat, threadsList, threadsDelete, messages, authorizer })) {
    created.push(
      alarm(`${name}ErrorsAlarm`, { metric: f.metricErrors({ period }), threshold: 1, alarmDescription: `${name} function errors` }),
      alarm(`${name}ThrottlesAlarm`, { metric: f.metricThrottles({ period }), threshold: 1, alarmDescription: `${name} function throttled` }),
    );
  }
  created.push(
    alarm('ChatDurationAlarm', {
      metric: chat.metricDuration({ period, statistic: 'Maximum' }),
      threshold: settings.chatTimeout.toMilliseconds() * 0.9,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      alarmDescription: 'A chat turn came close to the function timeout',
    }),
  );
  return created;
}
