import type { FunctionTool } from '@openai/agents-core';
import type { ApprovalPrompt } from './calls.js';

/** What a call to a tool asks the user, by tool (serverTool's `approvalPrompt`). */
const prompts = new WeakMap<object, (args: any) => ApprovalPrompt>();
/** What is wrong with a call's arguments for its tool (serverTool's `parameters`), null when they fit. */
const argumentChecks = new WeakMap<object, (args: unknown) => string | null>();

export function setArgumentCheck(tool: FunctionTool<any, any, any>, check: (args: unknown) => string | null): void {
  argumentChecks.set(tool, check);
}

/**
 * Why a call cannot be put to the user, null when it can: its arguments are not JSON, or do not
 * fit its tool's parameters (an approval could only end in a call the tool refuses).
 */
export function argumentsProblem(tool: FunctionTool<any, any, any> | undefined, argumentsJson: string): string | null {
  let args: unknown;
  try {
    args = JSON.parse(argumentsJson);
  } catch {
    return 'its arguments are not JSON';
  }
  const check = tool && argumentChecks.get(tool);
  return check ? check(args) : null;
}

export function setApprovalPrompt(tool: FunctionTool<any, any, any>, prompt: (args: any) => ApprovalPrompt): void {
  prompts.set(tool, prompt);
}

/**
 * The prompt for a call: the tool's own, or its name with each argument. A prompt that fails
 * (bad arguments) falls back to the default: the user still sees what the model asked for.
 */
export function approvalPromptFor(tool: FunctionTool<any, any, any> | undefined, name: string, argumentsJson: string): ApprovalPrompt {
  const own = tool && prompts.get(tool);
  if (own) {
    try {
      const prompt = own(JSON.parse(argumentsJson));
      if (prompt && typeof prompt.title === 'string') return prompt;
    } catch {
      // the default below
    }
  }
  return { title: humanize(name) };
}

function humanize(name: string): string {
  const words = name.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').trim().toLowerCase();
  return words ? words[0]!.toUpperCase() + words.slice(1) : 'Tool';
}
