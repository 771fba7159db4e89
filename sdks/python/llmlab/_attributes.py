"""Attribute names the LLMLab server maps: OpenTelemetry GenAI semantic conventions
(gen_ai.*) and LLMLab's own (llmlab.*)."""

from __future__ import annotations

from typing import Final, Literal

# OpenTelemetry GenAI semantic conventions.
GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"  # chat / execute_tool / invoke_agent
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
GEN_AI_REQUEST_TOP_P: Final = "gen_ai.request.top_p"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
# Input and output counts INCLUDE the cache and reasoning counts below.
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: Final = "gen_ai.usage.cache_creation.input_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.usage.reasoning.output_tokens"
GEN_AI_TOOL_NAME: Final = "gen_ai.tool.name"
GEN_AI_AGENT_NAME: Final = "gen_ai.agent.name"
GEN_AI_INPUT_MESSAGES: Final = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
GEN_AI_TOOL_CALL_ARGUMENTS: Final = "gen_ai.tool.call.arguments"
GEN_AI_TOOL_CALL_RESULT: Final = "gen_ai.tool.call.result"
ERROR_TYPE: Final = "error.type"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
HTTP_RESPONSE_STATUS_CODE: Final = "http.response.status_code"

# LLMLab's own.
LLMLAB_SESSION_ID: Final = "llmlab.session_id"
LLMLAB_USER_ID: Final = "llmlab.user_id"
LLMLAB_INPUT: Final = "llmlab.input"
LLMLAB_OUTPUT: Final = "llmlab.output"
LLMLAB_SPAN_KIND: Final = "llmlab.span.kind"
LLMLAB_PROJECT: Final = "llmlab.project"
LLMLAB_STREAMING: Final = "llmlab.streaming"
LLMLAB_TTFT_MS: Final = "llmlab.ttft_ms"

SpanKind = Literal["llm", "tool", "agent", "chain", "retriever", "embedding"]
SPAN_KINDS: Final[frozenset[str]] = frozenset({"llm", "tool", "agent", "chain", "retriever", "embedding"})

# gen_ai.operation.name for the decorator's kinds that have one.
OPERATION_FOR_KIND: Final[dict[str, str]] = {
    "llm": "chat",
    "tool": "execute_tool",
    "agent": "invoke_agent",
    "embedding": "embeddings",
}
