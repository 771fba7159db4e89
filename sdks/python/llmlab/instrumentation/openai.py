"""OpenAI instrumentation: a `chat {model}` span (GenAI conventions) around
`chat.completions.create` of the sync and async clients, streaming included.

Token counts come from `usage`: input = prompt_tokens (it includes the cached ones,
`gen_ai.usage.cache_read.input_tokens`), output = completion_tokens (it includes
`gen_ai.usage.reasoning.output_tokens`). A stream reports usage only when the request sets
`stream_options={"include_usage": True}`; the SDK does not add it (it changes the chunks
your code sees)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

from opentelemetry.trace import Span, TracerProvider

from .._attributes import (
    GEN_AI_INPUT_MESSAGES, GEN_AI_OUTPUT_MESSAGES, GEN_AI_REQUEST_MAX_TOKENS, GEN_AI_REQUEST_TEMPERATURE,
    GEN_AI_REQUEST_TOP_P, GEN_AI_RESPONSE_FINISH_REASONS, GEN_AI_RESPONSE_ID, GEN_AI_RESPONSE_MODEL,
    GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, GEN_AI_USAGE_INPUT_TOKENS, GEN_AI_USAGE_OUTPUT_TOKENS,
    GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, SERVER_ADDRESS, SERVER_PORT,
)
from .._config import Capture
from .._serialize import dumps
from ._common import (
    Options, Patcher, TracedAsyncStream, TracedStream, call_async, call_sync, get, int_or_none, start_llm_span,
    wraps,
)

PROVIDER = "openai"
_options = Options()
_patcher = Patcher()


def _server(client: Any) -> dict[str, Any]:
    base = getattr(getattr(client, "_client", None), "base_url", None)
    if base is None:
        return {}
    parsed = urlparse(str(base))
    out: dict[str, Any] = {SERVER_ADDRESS: parsed.hostname}
    if parsed.port:
        out[SERVER_PORT] = parsed.port
    return out


def _parts(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    parts: list[dict[str, Any]] = []
    for part in content if isinstance(content, list) else [content]:
        kind = get(part, "type")
        if kind == "text":
            parts.append({"type": "text", "content": get(part, "text")})
        else:
            parts.append({"type": str(kind or "unknown")})
    return parts


def _arguments(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _tool_call_parts(tool_calls: Any) -> list[dict[str, Any]]:
    out = []
    for call in tool_calls or []:
        function = get(call, "function")
        out.append({"type": "tool_call", "id": get(call, "id"), "name": get(function, "name"),
                    "arguments": _arguments(get(function, "arguments"))})
    return out


def input_messages(messages: Any) -> list[dict[str, Any]]:
    out = []
    for message in messages or []:
        role = get(message, "role")
        if role == "tool":
            parts = [{"type": "tool_call_response", "id": get(message, "tool_call_id"),
                      "response": get(message, "content")}]
        else:
            parts = _parts(get(message, "content")) + _tool_call_parts(get(message, "tool_calls"))
        out.append({"role": role, "parts": parts})
    return out


def request_attributes(client: Any, kwargs: dict[str, Any], capture: Capture) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        GEN_AI_REQUEST_MAX_TOKENS: int_or_none(kwargs.get("max_completion_tokens") or kwargs.get("max_tokens")),
        GEN_AI_REQUEST_TEMPERATURE: kwargs.get("temperature") if isinstance(kwargs.get("temperature"), (int, float)) else None,
        GEN_AI_REQUEST_TOP_P: kwargs.get("top_p") if isinstance(kwargs.get("top_p"), (int, float)) else None,
        **_server(client),
    }
    if capture == "full":
        attributes[GEN_AI_INPUT_MESSAGES] = dumps(input_messages(kwargs.get("messages")))
    return attributes


def record_usage(span: Span, usage: Any) -> None:
    if usage is None:
        return
    for name, value in (
        (GEN_AI_USAGE_INPUT_TOKENS, get(usage, "prompt_tokens")),
        (GEN_AI_USAGE_OUTPUT_TOKENS, get(usage, "completion_tokens")),
        (GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, get(get(usage, "prompt_tokens_details"), "cached_tokens")),
        (GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, get(get(usage, "completion_tokens_details"), "reasoning_tokens")),
    ):
        if (count := int_or_none(value)) is not None:
            span.set_attribute(name, count)


def record_response(span: Span, response: Any, capture: Capture) -> None:
    if (model := get(response, "model")) is not None:
        span.set_attribute(GEN_AI_RESPONSE_MODEL, str(model))
    if (response_id := get(response, "id")) is not None:
        span.set_attribute(GEN_AI_RESPONSE_ID, str(response_id))
    choices = get(response, "choices") or []
    reasons = [str(get(c, "finish_reason")) for c in choices if get(c, "finish_reason")]
    if reasons:
        span.set_attribute(GEN_AI_RESPONSE_FINISH_REASONS, reasons)
    record_usage(span, get(response, "usage"))
    if capture == "full" and choices:
        output = []
        for choice in choices:
            message = get(choice, "message")
            output.append({"role": get(message, "role") or "assistant",
                           "parts": _parts(get(message, "content")) + _tool_call_parts(get(message, "tool_calls")),
                           "finish_reason": get(choice, "finish_reason")})
        span.set_attribute(GEN_AI_OUTPUT_MESSAGES, dumps(output))


class StreamAccumulator:
    """Rebuilds the response from `chat.completion.chunk`s."""

    def __init__(self) -> None:
        self.model: str | None = None
        self.id: str | None = None
        self.usage: Any = None
        self.text: dict[int, list[str]] = {}
        self.reasons: dict[int, str] = {}
        self.tool_calls: dict[int, dict[int, dict[str, Any]]] = {}

    def add(self, chunk: Any) -> None:
        self.model = get(chunk, "model") or self.model
        self.id = get(chunk, "id") or self.id
        if (usage := get(chunk, "usage")) is not None:
            self.usage = usage
        for choice in get(chunk, "choices") or []:
            index = get(choice, "index") or 0
            delta = get(choice, "delta")
            if (content := get(delta, "content")) is not None:
                self.text.setdefault(index, []).append(str(content))
            for call in get(delta, "tool_calls") or []:
                slot = self.tool_calls.setdefault(index, {}).setdefault(
                    get(call, "index") or 0, {"id": None, "name": None, "arguments": ""})
                slot["id"] = get(call, "id") or slot["id"]
                function = get(call, "function")
                slot["name"] = get(function, "name") or slot["name"]
                slot["arguments"] += get(function, "arguments") or ""
            if (reason := get(choice, "finish_reason")) is not None:
                self.reasons[index] = str(reason)

    def finish(self, span: Span, capture: Capture) -> None:
        if self.model:
            span.set_attribute(GEN_AI_RESPONSE_MODEL, self.model)
        if self.id:
            span.set_attribute(GEN_AI_RESPONSE_ID, self.id)
        if self.reasons:
            span.set_attribute(GEN_AI_RESPONSE_FINISH_REASONS, [self.reasons[i] for i in sorted(self.reasons)])
        record_usage(span, self.usage)
        if capture == "full":
            indexes = sorted(set(self.text) | set(self.tool_calls) | set(self.reasons))
            output = []
            for i in indexes:
                parts: list[dict[str, Any]] = []
                if i in self.text:
                    parts.append({"type": "text", "content": "".join(self.text[i])})
                for _, call in sorted(self.tool_calls.get(i, {}).items()):
                    parts.append({"type": "tool_call", "id": call["id"], "name": call["name"],
                                  "arguments": _arguments(call["arguments"])})
                output.append({"role": "assistant", "parts": parts, "finish_reason": self.reasons.get(i)})
            if output:
                span.set_attribute(GEN_AI_OUTPUT_MESSAGES, dumps(output))


def _start(self: Any, kwargs: dict[str, Any]) -> Span:
    capture = _options.policy()
    return start_llm_span(_options, PROVIDER, str(kwargs.get("model") or ""),
                          request_attributes(self, kwargs, capture))


def _wrap_sync(original: Any) -> Any:
    @wraps(original)
    def create(self: Any, *args: Any, **kwargs: Any) -> Any:
        span = _start(self, kwargs)
        result = call_sync(_options, span, original, (self, *args), kwargs)
        if kwargs.get("stream") is True and hasattr(result, "__iter__") and hasattr(result, "close"):
            return TracedStream(result, span, StreamAccumulator(), _options.policy())
        record_response(span, result, _options.policy())
        span.end()
        return result

    return create


def _wrap_async(original: Any) -> Any:
    @wraps(original)
    async def create(self: Any, *args: Any, **kwargs: Any) -> Any:
        span = _start(self, kwargs)
        result = await call_async(_options, span, original, (self, *args), kwargs)
        if kwargs.get("stream") is True and hasattr(result, "__aiter__"):
            return TracedAsyncStream(result, span, StreamAccumulator(), _options.policy())
        record_response(span, result, _options.policy())
        span.end()
        return result

    return create


def instrument(*, tracer_provider: TracerProvider | None = None, capture: Capture | None = None) -> None:
    try:
        from openai.resources.chat.completions import AsyncCompletions, Completions
    except ImportError as error:
        raise ImportError("instrument_openai needs the openai package: pip install 'llmlab[openai]'") from error
    _options.tracer_provider = tracer_provider
    _options.capture = capture
    if not _patcher.targets:
        _patcher.targets = [(Completions, "create", _wrap_sync), (AsyncCompletions, "create", _wrap_async)]
    _patcher.patch()


def uninstrument() -> None:
    _patcher.unpatch()


def is_instrumented() -> bool:
    return _patcher.patched()
