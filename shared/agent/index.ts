export { AgentResponder, DEFAULT_GUARDRAIL_MESSAGE, type AgentResponderOptions, type TurnUsage } from './agent-responder.js';
export { assistantToolTask, createAssistant, DEFAULT_ASSISTANT_INSTRUCTIONS, type AssistantConfig } from './assistant.js';
export { AgentContext, type ClientToolCallRequest, type WorkflowSummary } from './context.js';
export { searchConversations, SEARCH_CONVERSATIONS } from './search-tool.js';
export { dataImageUrl, defaultToolTask, StreamEventMapper, type ImageUrlFor, type ToolCall, type ToolTaskFor } from './stream-events.js';
export { clientTool, serverTool, stopAtClientToolCall, type ToolCallDetails } from './tools.js';
export { TurnError } from './turn-error.js';
export { widgetUpdates, type WidgetSource } from './widgets.js';
