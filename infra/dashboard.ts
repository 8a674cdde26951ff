import { Aws, CfnOutput, Duration } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { AlarmStatusWidget, Dashboard, GraphWidget, MathExpression, type Alarm, type IMetric, type Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { ERROR_CODE_DIMENSION, METRIC, metricsNamespace } from '../functions/runtime/metric-names.js';
import { ownMetric } from './alarms.js';
import type { StackSettings } from './settings.js';

export interface DashboardSources {
  api: RestApi;
  /** Every function, by the name its service dimension carries (`chatkit-<name>`). */
  functions: Record<string, IFunction>;
  alarms: Alarm[];
}

const period = Duration.minutes(5);
const CHAT = 'chatkit-chat';
const DATABASE_USERS = ['chat', 'threadsList', 'threadsDelete', 'messages'];

/** One page for a stage: the API, each turn, the model, the database, the functions, the alarms. */
export function dashboard(scope: Construct, settings: StackSettings, { api, functions, alarms }: DashboardSources): Dashboard {
  const own = (metricName: string, statistic = 'Sum', service = CHAT) => ownMetric(settings, service, metricName, statistic).with({ period, label: `${metricName} ${statistic}` });
  const percentiles = (metricName: string) => ['p50', 'p90', 'p99'].map((p) => own(metricName, p));
  const graph = (title: string, left: IMetric[], right: IMetric[] = []) => new GraphWidget({ title, left, right, width: 8, height: 6 });
  const perFunction = (title: string, metric: (f: IFunction) => Metric, names = Object.keys(functions)) =>
    graph(title, names.map((name) => metric(functions[name]!).with({ label: name, period })));

  const name = `ChatKit-${settings.stageName}`;
  const board = new Dashboard(scope, 'Dashboard', { dashboardName: name, defaultInterval: Duration.hours(3) });
  board.addWidgets(
    graph('API requests and errors', [api.metricCount({ period }), api.metricClientError({ period }), api.metricServerError({ period })]),
    graph('API latency (ms)', ['p50', 'p90', 'p99'].map((p) => api.metricLatency({ period, statistic: p, label: `Latency ${p}` }))),
    new AlarmStatusWidget({ title: 'Alarms', alarms, width: 8, height: 6 }),
  );
  board.addWidgets(
    graph('Time to first token (ms)', percentiles(METRIC.timeToFirstToken)),
    graph('Turn duration (ms)', percentiles(METRIC.turnDuration)),
    graph('Turns, tool calls, cancellations', [own(METRIC.turns), own(METRIC.toolCalls), own(METRIC.turnCancelled), own(METRIC.turnTimedOut)]),
  );
  board.addWidgets(
    graph('Turn errors by code', [
      new MathExpression({
        expression: `SEARCH('{${metricsNamespace(settings.stageName)},service,${ERROR_CODE_DIMENSION}} MetricName="${METRIC.turnErrors}"', 'Sum', ${period.toSeconds()})`,
        label: '',
        period,
      }),
    ]),
    graph('Model tokens', [own(METRIC.modelInputTokens), own(METRIC.modelOutputTokens)]),
    graph('Authorizer', [own(METRIC.tokensRefused, 'Sum', 'chatkit-authorizer'), own(METRIC.authorizerFailures, 'Sum', 'chatkit-authorizer')]),
  );
  board.addWidgets(
    graph(
      'Database round trips per invocation',
      DATABASE_USERS.map((fn) => own(METRIC.databaseRoundTrips, 'Average', `chatkit-${fn}`).with({ label: fn })),
    ),
    graph('Database reconnects', DATABASE_USERS.map((fn) => own(METRIC.databaseReconnects, 'Sum', `chatkit-${fn}`).with({ label: fn }))),
    perFunction('Function duration p99 (ms)', (f) => f.metricDuration({ statistic: 'p99' })),
  );
  board.addWidgets(
    perFunction('Function errors', (f) => f.metricErrors()),
    perFunction('Function throttles', (f) => f.metricThrottles()),
    perFunction('Concurrent executions', (f) => f.metric('ConcurrentExecutions', { statistic: 'Maximum' })),
  );
  new CfnOutput(scope, 'DashboardUrl', {
    value: `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${name}`,
    description: 'The CloudWatch dashboard of this stage',
  });
  return board;
}
