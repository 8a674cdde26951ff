import type { JsonObject, WidgetItem } from '../../protocol/index.js';
import { APPROVE_ACTION, DENY_ACTION } from '../../responder/paused-turn.js';
import { isPending, type ApprovalCall, type CallOutcome } from './calls.js';

// The confirmation widget: one card per paused turn, listing each call that asked for approval
// with what it will do. The card's own confirm/cancel buttons answer every pending call; with
// more than one pending, each call also has its own. A button's action carries only the call's
// id: what it approves is what the server stored. Decided calls show their outcome instead.

const MAX_ARGUMENTS = 20;
const MAX_VALUE_CHARS = 300;

/** The widget for these calls, pending ones with buttons and decided ones with their outcome. */
export function approvalWidget(calls: readonly ApprovalCall[]): JsonObject {
  const pending = calls.filter(isPending);
  const children = calls.flatMap((call, index): JsonObject[] => [
    ...(index > 0 ? [{ type: 'Divider' }] : []),
    { type: 'Title', value: call.prompt.title, size: 'sm' },
    ...(call.prompt.details ?? argumentLines(call.arguments)),
    call.outcome ? outcomeRow(call.outcome) : pending.length > 1 ? buttons(call.callId) : null,
  ].filter((node): node is JsonObject => node !== null));
  return {
    type: 'Card',
    size: 'md',
    ...(pending.length ? { status: { text: 'Waiting for your approval', icon: 'info' } } : {}),
    children,
    ...(pending.length
      ? {
          confirm: { label: pending.length > 1 ? 'Approve all' : 'Approve', action: { type: APPROVE_ACTION, payload: {} } },
          cancel: { label: pending.length > 1 ? 'Deny all' : 'Deny', action: { type: DENY_ACTION, payload: {} } },
        }
      : {}),
  };
}

/** The widget item a paused turn shows, or shows again as its calls are decided. */
export function approvalWidgetItem(id: string, threadId: string, createdAt: string, calls: readonly ApprovalCall[]): WidgetItem {
  return { id, thread_id: threadId, created_at: createdAt, type: 'widget', widget: approvalWidget(calls), copy_text: copyText(calls) };
}

function buttons(callId: string): JsonObject {
  return {
    type: 'Row',
    gap: 2,
    children: [
      { type: 'Button', label: 'Approve', style: 'primary', size: 'sm', onClickAction: { type: APPROVE_ACTION, payload: { call_id: callId } } },
      { type: 'Button', label: 'Deny', style: 'secondary', size: 'sm', onClickAction: { type: DENY_ACTION, payload: { call_id: callId } } },
    ],
  };
}

function outcomeRow(outcome: CallOutcome): JsonObject {
  const [label, color] = OUTCOME_BADGES[outcome.type];
  return { type: 'Row', gap: 2, children: [{ type: 'Badge', label, color }, { type: 'Caption', value: outcomeText(outcome) }] };
}

const OUTCOME_BADGES: Record<CallOutcome['type'], [string, string]> = {
  approved: ['Approved', 'success'],
  denied: ['Denied', 'danger'],
  superseded: ['Not run', 'secondary'],
  expired: ['Expired', 'warning'],
  refused: ['Not run', 'secondary'],
};

function outcomeText(outcome: CallOutcome): string {
  switch (outcome.type) {
    case 'approved':
      return `Approved by ${outcome.by} at ${readableTime(outcome.at)}`;
    case 'denied':
      return `Denied by ${outcome.by} at ${readableTime(outcome.at)}`;
    case 'superseded':
      return `Not approved: a new message was sent instead at ${readableTime(outcome.at)}`;
    case 'expired':
      return `The request expired unanswered (noticed at ${readableTime(outcome.at)})`;
    case 'refused':
      return `Not run: ${outcome.reason}`;
  }
}

/** Each argument as a line of plain text (never Markdown: a value the model wrote must not become a link). */
function argumentLines(json: string): JsonObject[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return [{ type: 'Text', value: clip(json), size: 'sm' }];
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return [{ type: 'Text', value: clip(JSON.stringify(parsed)), size: 'sm' }];
  const entries = Object.entries(parsed);
  const lines: JsonObject[] = entries.slice(0, MAX_ARGUMENTS).map(([key, value]) => ({
    type: 'Text',
    value: `${humanize(key)}: ${clip(typeof value === 'string' ? value : JSON.stringify(value))}`,
    size: 'sm',
  }));
  if (entries.length > MAX_ARGUMENTS) lines.push({ type: 'Caption', value: `and ${entries.length - MAX_ARGUMENTS} more` });
  return lines;
}

function copyText(calls: readonly ApprovalCall[]): string {
  return calls.map((call) => `${call.prompt.title}${call.outcome ? ` (${outcomeText(call.outcome)})` : ' (waiting for approval)'}`).join('\n');
}

function clip(text: string): string {
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

function humanize(key: string): string {
  const words = key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').trim().toLowerCase();
  return words ? words[0]!.toUpperCase() + words.slice(1) : key;
}

function readableTime(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}
