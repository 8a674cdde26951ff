import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ThreadStreamEvent } from '../../shared/protocol/index.js';
import { emfLines } from '../support/emf.js';

process.env.POWERTOOLS_METRICS_DISABLED = 'false';
process.env.POWERTOOLS_SERVICE_NAME = 'chatkit-chat';
const { observeTurn, recordModelUsage, recordTurn } = await import('../../functions/runtime/turn-metrics.js');
const { ClientDisconnected, TurnTimeoutNear } = await import('../../functions/runtime/turn-abort.js');
const { publishMetrics } = await import('../../functions/runtime/metrics.js');
type TurnReport = import('../../functions/runtime/turn-metrics.js').TurnReport;

const at = '2026-11-25T00:00:00.000Z';
const delta = (text: string): ThreadStreamEvent => ({ type: 'thread.item.updated', item_id: 'msg_1', update: { type: 'assistant_message.content_part.text_delta', content_index: 0, delta: text } });
const toolCall = (id: string): ThreadStreamEvent => ({
  type: 'thread.item.done',
  item: { id, thread_id: 'thr_1', created_at: at, type: 'client_tool_call', status: 'pending', call_id: id, name: 'lookup', arguments: {} },
});

/** Runs events through observeTurn on a scripted clock: each event arrives `step` ms after the previous one. */
async function observe(events: ThreadStreamEvent[], { step = 10, signal = new AbortController().signal, throwAfter }: { step?: number; signal?: AbortSignal; throwAfter?: number } = {}) {
  let clock = 1000;
  let report: TurnReport | undefined;
  async function* source() {
    for (const [i, event] of events.entries()) {
      clock += step;
      if (throwAfter === i) throw new Error('model connection reset');
      yield event;
    }
  }
  const seen: ThreadStreamEvent[] = [];
  const observed = observeTurn(source(), { signal, startedAt: 1000 }, (r) => void (report = r), () => clock);
  try {
    for await (const event of observed) seen.push(event);
  } catch {
    // reported below
  }
  return { seen, report: report! };
}

describe('observeTurn', () => {
  it('passes every event through and measures time to first token and duration', async () => {
    const events: ThreadStreamEvent[] = [{ type: 'stream_options', stream_options: { allow_cancel: true } }, { type: 'progress_update', text: 'thinking' }, delta('Hel'), delta('lo')];
    const { seen, report } = await observe(events, { step: 25 });
    expect(seen).toEqual(events);
    expect(report).toEqual({ durationMs: 100, timeToFirstTokenMs: 75, toolCalls: 0, errorCodes: [], outcome: 'completed' });
  });

  it('counts tool-call, task and workflow items once each, however many events name them', async () => {
    const task: ThreadStreamEvent = { type: 'thread.item.added', item: { id: 'tsk_1', thread_id: 'thr_1', created_at: at, type: 'task', task: { type: 'custom', title: 't' } } as never };
    const { report } = await observe([toolCall('tc_1'), toolCall('tc_1'), toolCall('tc_2'), task, delta('ok')]);
    expect(report.toolCalls).toBe(3);
  });

  it('records error events by code, and a stream that throws as "exception"', async () => {
    const { report } = await observe([delta('a'), { type: 'error', code: 'stream.error', allow_retry: true }]);
    expect(report).toMatchObject({ errorCodes: ['stream.error'], outcome: 'completed' });
    const thrown = await observe([delta('a'), delta('b')], { throwAfter: 1 });
    expect(thrown.report).toMatchObject({ errorCodes: ['exception'], timeToFirstTokenMs: 10 });
  });

  it('tells a cancellation (the client went away) from a turn cut by the timeout', async () => {
    const disconnected = new AbortController();
    disconnected.abort(new ClientDisconnected());
    expect((await observe([delta('a')], { signal: disconnected.signal })).report.outcome).toBe('cancelled');
    const timedOut = new AbortController();
    timedOut.abort(new TurnTimeoutNear());
    expect((await observe([delta('a')], { signal: timedOut.signal })).report).toMatchObject({ outcome: 'timed_out', timeToFirstTokenMs: 10 });
    expect((await observe([])).report).toMatchObject({ timeToFirstTokenMs: undefined, outcome: 'completed' });
  });
});

describe('the metrics a turn becomes', () => {
  let stdout: ReturnType<typeof emfLines>;
  beforeEach(() => (stdout = emfLines()));
  afterEach(() => stdout.restore());

  it('one document per invocation, plus one per error code with the code as a dimension', () => {
    recordTurn({ durationMs: 1234.4, timeToFirstTokenMs: 321.6, toolCalls: 2, errorCodes: ['stream.error', 'bad code!'], outcome: 'timed_out' });
    recordModelUsage({ inputTokens: 812, outputTokens: 96 });
    publishMetrics();
    expect(stdout.metrics()).toEqual([
      { service: 'chatkit-chat', code: 'stream.error', TurnErrors: 1 },
      { service: 'chatkit-chat', code: 'other', TurnErrors: 1 },
      {
        service: 'chatkit-chat',
        Turns: 1,
        TurnDuration: 1234,
        TimeToFirstToken: 322,
        ToolCalls: 2,
        TurnErrors: 2,
        TurnCancelled: 0,
        TurnTimedOut: 1,
        ModelInputTokens: 812,
        ModelOutputTokens: 96,
      },
    ]);
    const units = Object.fromEntries(stdout.documents.at(-1)!._aws.CloudWatchMetrics[0]!.Metrics.map((m) => [m.Name, m.Unit]));
    expect(units).toMatchObject({ TurnDuration: 'Milliseconds', TimeToFirstToken: 'Milliseconds', ModelInputTokens: 'Count' });
  });
});
