import { randomBytes } from 'node:crypto';

export type IdKind = 'thread' | 'message' | 'tool_call' | 'workflow' | 'task' | 'attachment' | 'sdk_hidden_context' | 'turn';

const PREFIX: Record<IdKind, string> = {
  thread: 'thr',
  message: 'msg',
  tool_call: 'tc',
  workflow: 'wf',
  task: 'tsk',
  attachment: 'atc',
  sdk_hidden_context: 'shcx',
  turn: 'turn',
};

/** Makes the ids of new threads and items; replace it to use ids of your own. */
export type IdGenerator = (kind: IdKind) => string;

export const defaultIds: IdGenerator = (kind) => `${PREFIX[kind]}_${randomBytes(12).toString('base64url')}`;
