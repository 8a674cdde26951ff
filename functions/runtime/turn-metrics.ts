import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ThreadStreamEvent } from '../../shared/protocol/index.js';
import { ERROR_CODE_DIMENSION, METRIC } from './metric-names.js';
import { metrics } from './metrics.js';
import { TurnTimeoutNear } from './turn-abort.js';

export interface TurnReport {
  /** From the request's arrival in the handler to the last event. */
  durationMs: number;
  /** To the first text delta of the answer; undefined when none came. */
  timeToFirstTokenMs: number | undefined;
  toolCalls: number;
  /** The code of each `error` event, and `exception` if the stream itself threw. */
  errorCodes: string[];
  outcome: 'completed' | 'cancelled' | 'timed_out';
}

export interface TurnObservation {
  signal: AbortSignal;
  /** performance.now() when the request reached the handler. */
  startedAt: number;
}

const TOOL_ITEM_TYPES = new Set(['client_tool_call', 'task', 'workflow']);

/**
 * Passes a streamed turn's events through unchanged and, when the turn ends (completed, failed or
 * cut short), reports what they showed. Reads only the events, so it does not depend on how the
 * server produces them.
 */
export async function* observeTurn(
  events: AsyncIterable<ThreadStreamEvent>,
  { signal, startedAt }: TurnObservation,
  report: (turn: TurnReport) => void = recordTurn,
  now: () => number = () => performance.now(),
): AsyncGenerator<ThreadStreamEvent> {
  let firstToken: number | undefined;
  const toolItems = new Set<string>();
  const errorCodes: string[] = [];
  try {
    for await (const event of events) {
      if (firstToken === undefined && event.type === 'thread.item.updated' && event.update.type === 'assistant_message.content_part.text_delta') {
        firstToken = now();
      }
      if ((event.type === 'thread.item.added' || event.type === 'thread.item.done') && TOOL_ITEM_TYPES.has(event.item.type)) toolItems.add(event.item.id);
      if (event.type === 'error') errorCodes.push(event.code);
      yield event;
    }
  } catch (error) {
    errorCodes.push('exception');
    throw error;
  } finally {
    report({
      durationMs: now() - startedAt,
      timeToFirstTokenMs: firstToken === undefined ? undefined : firstToken - startedAt,
      toolCalls: toolItems.size,
      errorCodes,
      outcome: !signal.aborted ? 'completed' : signal.reason instanceof TurnTimeoutNear ? 'timed_out' : 'cancelled',
    });
  }
}

/** A turn's figures as metrics of this invocation; errors also by code (a dimension). */
export function recordTurn(turn: TurnReport): void {
  metrics.addMetric(METRIC.turns, MetricUnit.Count, 1);
  metrics.addMetric(METRIC.turnDuration, MetricUnit.Milliseconds, Math.round(turn.durationMs));
  if (turn.timeToFirstTokenMs !== undefined) metrics.addMetric(METRIC.timeToFirstToken, MetricUnit.Milliseconds, Math.round(turn.timeToFirstTokenMs));
  metrics.addMetric(METRIC.toolCalls, MetricUnit.Count, turn.toolCalls);
  metrics.addMetric(METRIC.turnErrors, MetricUnit.Count, turn.errorCodes.length);
  metrics.addMetric(METRIC.turnCancelled, MetricUnit.Count, turn.outcome === 'cancelled' ? 1 : 0);
  metrics.addMetric(METRIC.turnTimedOut, MetricUnit.Count, turn.outcome === 'timed_out' ? 1 : 0);
  for (const code of turn.errorCodes) {
    metrics.singleMetric().addDimension(ERROR_CODE_DIMENSION, dimensionValue(code)).addMetric(METRIC.turnErrors, MetricUnit.Count, 1);
  }
}

/**
 * The hook for the model's token usage: a responder that knows it (the agent responder to come)
 * calls this once per model response, during the turn's invocation.
 */
export function recordModelUsage(usage: { inputTokens: number; outputTokens: number }): void {
  metrics.addMetric(METRIC.modelInputTokens, MetricUnit.Count, usage.inputTokens);
  metrics.addMetric(METRIC.modelOutputTokens, MetricUnit.Count, usage.outputTokens);
}

/** Error codes come from the stream; a dimension value must stay short and of few distinct values. */
function dimensionValue(code: string): string {
  return /^[\w.:-]{1,64}$/.test(code) ? code : 'other';
}
