import { describe } from 'vitest';
import type { ThreadStreamEvent } from '../../shared/protocol/index.js';
import { chatFunctionUnderShim } from '../support/chat-function.js';
import { approvalScenarios, type Answer, type ApprovalDeployment } from '../support/approval-scenarios.js';
import { parseSse } from '../support/sse.js';

// Tools that ask first, through POST /chatkit as Lambda response streaming runs it, with the
// shipped assistant on real PostgreSQL. A restart is a new instance: the module loaded afresh
// (a cold start, its own connections), knowing only what the database holds.
const fn = chatFunctionUnderShim();

async function send(body: unknown, user: string, options: { stopWhen?: (events: ThreadStreamEvent[]) => boolean } = {}): Promise<Answer> {
  const stopWhen = options.stopWhen;
  const result = await fn.post(user, body, stopWhen ? { clientGoesAwayWhen: (body) => stopWhen(parseSse(completeEvents(body))) } : {});
  if (!result.headers['content-type']?.startsWith('text/event-stream')) return { status: result.statusCode, events: [], json: JSON.parse(result.body) };
  // What the client received: up to where it left, if it did.
  return { status: result.statusCode, events: parseSse(completeEvents(result.clientReceived ?? result.body)), json: undefined };
}

/** The events received whole (a chunk may end mid-event). */
function completeEvents(body: string): string {
  return body.slice(0, body.lastIndexOf('\n\n') + 2);
}

const deployment: ApprovalDeployment = {
  get model() {
    return fn.model;
  },
  send,
  restart: (extra = {}) => fn.coldStart(extra),
  seesClientLeave: false,
};

describe('tools that ask first, through the chat function', { timeout: 60_000 }, () => {
  approvalScenarios(() => deployment);
});
