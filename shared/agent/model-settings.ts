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

/**
 * The efforts a model family takes, where OpenAI's model pages say (a family not listed is not
 * checked): another is a 400 on every turn, so the start (and synth) refuses it instead.
 */
const FAMILY_EFFORTS: Array<[RegExp, readonly ReasoningEffort[]]> = [
  [/^gpt-5\.[2-9]/, ['none', 'low', 'medium', 'high', 'xhigh']],
  [/^gpt-5\.1/, ['none', 'low', 'medium', 'high']],
  [/^gpt-5(-|$)/, ['minimal', 'low', 'medium', 'high']],
  [/^o\d/, ['low', 'medium', 'high']],
];

/** The first of `models` whose family refuses this effort, with the efforts it takes; null if none does. */
export function effortRefusal(effort: ReasoningEffort | undefined, models: readonly string[]): { model: string; takes: readonly ReasoningEffort[] } | null {
  if (effort === undefined) return null;
  for (const model of models) {
    if (/codex/.test(model)) continue; // the codex models take efforts of their own (gpt-5.1-codex-max: xhigh)
    const takes = FAMILY_EFFORTS.find(([family]) => family.test(model))?.[1];
    if (takes && !takes.includes(effort)) return { model, takes };
  }
  return null;
}

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
