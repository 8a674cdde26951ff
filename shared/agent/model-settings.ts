// The assistant's model and what it asks of a reasoning model, as the environment configures
// them. Dependency-free: the server reads them at start, before the Agents SDK is loaded, and
// the stack's settings check them at synth.

export { isReasoningModel } from '../responder/reasoning-models.js';

/**
 * OPENAI_MODEL's default: the Agents SDK's own default model (`getDefaultModel()` of
 * @openai/agents-core, pinned by a test), which then gets the SDK's default settings for it.
 */
export const DEFAULT_MODEL = 'gpt-5.6-luna';

/** `reasoning.effort` values the Responses API takes. */
export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const;
export type ReasoningEffort = (typeof REASONING_EFFORTS)[number];

/** `reasoning.summary` values, and `off` for none. */
export const REASONING_SUMMARIES = ['auto', 'concise', 'detailed', 'off'] as const;
export type ReasoningSummary = (typeof REASONING_SUMMARIES)[number];

export interface ReasoningOptions {
  /** Unset: the agent's own setting, else the Agents SDK's default for the model. */
  effort?: ReasoningEffort | undefined;
  /** Default `auto`: thoughts are shown; `off` asks for none. */
  summary?: ReasoningSummary | undefined;
}

/** ASSISTANT_REASONING_EFFORT and ASSISTANT_REASONING_SUMMARY, checked: a typo fails the start, not every turn. */
export function reasoningFromEnv(env: NodeJS.ProcessEnv): ReasoningOptions {
  return {
    effort: oneOf(env, 'ASSISTANT_REASONING_EFFORT', REASONING_EFFORTS),
    summary: oneOf(env, 'ASSISTANT_REASONING_SUMMARY', REASONING_SUMMARIES),
  };
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, values: readonly T[]): T | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  if (!(values as readonly string[]).includes(value)) throw new Error(`${name} must be one of ${values.join(', ')}, not "${value}"`);
  return value as T;
}
