/**
 * Whether a model reasons (returns reasoning items, takes reasoning settings, spends output
 * tokens thinking before it writes): the o-series and GPT-5 and newer, but not the chat aliases,
 * as the Agents SDK and the API group them.
 */
export function isReasoningModel(model: string): boolean {
  if (/-chat-latest$/.test(model)) return false;
  if (/^o\d/.test(model)) return true;
  const version = /^gpt-(\d+)/.exec(model);
  return version !== null && Number(version[1]) >= 5;
}
