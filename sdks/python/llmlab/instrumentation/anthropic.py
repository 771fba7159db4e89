"""Anthropic instrumentation: a `chat {model}` span (GenAI conventions) around
`messages.create` of the sync and async clients, `stream=True` included.

Anthropic's `usage.input_tokens` excludes the cache; the GenAI input count includes it, so
`gen_ai.usage.input_tokens` = input_tokens + cache_read_input_tokens +
cache_creation_input_tokens, with the two cache counts also given on their own."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

from opentelemetry.trace import Span, TracerProvider

from .._attributes import (
    GEN_AI_INPUT_MESSAGES, GEN_AI_OUTPUT_MESSAGES, GEN_AI_REQUEST_MAX_TOKENS, GEN_AI_REQUEST_TEMPERATURE,
    GEN_AI_REQUEST_TOP_P, GEN_AI_RESPONSE_FINISH_REASONS, GEN_AI_RESPONSE_ID, GEN_AI_RESPONSE_MODEL,
    GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS, SERVER_ADDRESS, SERVER_PORT,
)
from .._config import Capture
from .._serialize import dumps
from ._common import (
    Options, Patcher, TracedAsyncStream, TracedStream, call_async, call_sync, get, int_or_none, start_llm_span,
    wraps,
)

PROVIDER = "anthropic"
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
    for block in content if isinstance(content, list) else [content]:
        kind = get(block, "type")
        if kind == "text":
            parts.append({"type": "text", "content": get(block, "text")})
        elif kind == "tool_use":
            parts.append({"type": "tool_call", "id": get(block, "id"), "name": get(block, "name"),
                          "arguments": get(block, "input")})
        elif kind == "tool_result":
            parts.append({"type": "tool_call_response", "id": get(block, "tool_use_id"),
                          "response": get(block, "content")})
        elif kind == "thinking":
            parts.append({"type": "reasoning", "content": get(block, "thinking")})
        else:
            parts.append({"type": str(kind or "unknown")})
    return parts


def input_messages(system: Any, messages: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if system:
        out.append({"role": "system", "parts": _parts(system)})
    for message in messages or []:
        out.append({"role": get(message, "role"), "parts": _parts(get(message, "content"))})
    return out


def request_attributes(client: Any, kwargs: dict[str, Any], capture: Capture) -> dict[str, Any]:
    number = (int, float)
    attributes: dict[str, Any] = {
        GEN_AI_REQUEST_MAX_TOKENS: int_or_none(kwargs.get("max_tokens")),
        GEN_AI_REQUEST_TEMPERATURE: kwargs.get("temperature") if isinstance(kwargs.get("temperature"), number) else None,
        GEN_AI_REQUEST_TOP_P: kwargs.get("top_p") if isinstance(kwargs.get("top_p"), number) else None,
        **_server(client),
    }
    if capture == "full":
        attributes[GEN_AI_INPUT_MESSAGES] = dumps(input_messages(kwargs.get("system"), kwargs.get("messages")))
    return attributes


def record_usage(span: Span, usage: Any) -> None:
    if usage is None:
        return
    uncached = int_or_none(get(usage, "input_tokens"))
    read = int_or_none(get(usage, "cache_read_input_tokens"))
    written = int_or_none(get(usage, "cache_creation_input_tokens"))
    output = int_or_none(get(usage, "output_tokens"))
    if uncached is not None or read is not None or written is not None:
        span.set_attribute(GEN_AI_USAGE_INPUT_TOKENS, (uncached or 0) + (read or 0) + (written or 0))
    if read is not None:
        span.set_attribute(GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, read)
    if written is not None:
        span.set_attribute(GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, written)
    if output is not None:
        span.set_attribute(GEN_AI_USAGE_OUTPUT_TOKENS, output)


def _output_message(content: list[dict[str, Any]], stop_reason: Any) -> str:
    return dumps([{"role": "assistant", "parts": content, "finish_reason": stop_reason}])


def record_response(span: Span, message: Any, capture: Capture) -> None:
    if (model := get(message, "model")) is not None:
        span.set_attribute(GEN_AI_RESPONSE_MODEL, str(model))
    if (message_id := get(message, "id")) is not None:
        span.set_attribute(GEN_AI_RESPONSE_ID, str(message_id))
    if stop := get(message, "stop_reason"):
        span.set_attribute(GEN_AI_RESPONSE_FINISH_REASONS, [str(stop)])
    record_usage(span, get(message, "usage"))
    if capture == "full" and get(message, "content") is not None:
        span.set_attribute(GEN_AI_OUTPUT_MESSAGES, _output_message(_parts(get(message, "content")), stop))


class StreamAccumulator:
    """Rebuilds the message from the Messages streaming events."""

    def __init__(self) -> None:
        self.model: str | None = None
        self.id: str | None = None
        self.usage: dict[str, Any] = {}
        self.stop: str | None = None
        self.blocks: dict[int, dict[str, Any]] = {}

    def _merge_usage(self, usage: Any) -> None:
        for name in ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"):
            if (value := int_or_none(get(usage, name))) is not None:
                self.usage[name] = value

    def add(self, event: Any) -> None:
        kind = get(event, "type")
        if kind == "message_start":
            message = get(event, "message")
            self.model = get(message, "model") or self.model
            self.id = get(message, "id") or self.id
            self._merge_usage(get(message, "usage"))
        elif kind == "content_block_start":
            block = get(event, "content_block")
            self.blocks[get(event, "index") or 0] = {
                "type": get(block, "type"), "text": get(block, "text") or "", "id": get(block, "id"),
                "name": get(block, "name"), "json": ""}
        elif kind == "content_block_delta":
            slot = self.blocks.setdefault(get(event, "index") or 0, {"type": "text", "text": "", "json": ""})
            delta = get(event, "delta")
            delta_type = get(delta, "type")
            if delta_type == "text_delta":
                slot["text"] += get(delta, "text") or ""
            elif delta_type == "input_json_delta":
                slot["json"] += get(delta, "partial_json") or ""
            elif delta_type == "thinking_delta":
                slot["text"] += get(delta, "thinking") or ""
        elif kind == "message_delta":
            self.stop = get(get(event, "delta"), "stop_reason") or self.stop
            self._merge_usage(get(event, "usage"))  # output_tokens is cumulative

    def finish(self, span: Span, capture: Capture) -> None:
        if self.model:
            span.set_attribute(GEN_AI_RESPONSE_MODEL, self.model)
        if self.id:
            span.set_attribute(GEN_AI_RESPONSE_ID, self.id)
        if self.stop:
            span.set_attribute(GEN_AI_RESPONSE_FINISH_REASONS, [self.stop])
        if self.usage:
            record_usage(span, self.usage)
        if capture == "full" and self.blocks:
            parts: list[dict[str, Any]] = []
            for _, block in sorted(self.blocks.items()):
                if block["type"] == "tool_use":
                    try:
                        arguments: Any = json.loads(block["json"]) if block["json"] else {}
                    except ValueError:
                        arguments = block["json"]
                    parts.append({"type": "tool_call", "id": block["id"], "name": block["name"], "arguments": arguments})
                elif block["type"] == "thinking":
                    parts.append({"type": "reasoning", "content": block["text"]})
                else:
                    parts.append({"type": "text", "content": block["text"]})
            span.set_attribute(GEN_AI_OUTPUT_MESSAGES, _output_message(parts, self.stop))


def _start(self: Any, kwargs: dict[str, Any]) -> Span:
    return start_llm_span(_options, PROVIDER, str(kwargs.get("model") or ""),
                          request_attributes(self, kwargs, _options.policy()))


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
        from anthropic.resources.messages import AsyncMessages, Messages
    except ImportError as error:
        raise ImportError("instrument_anthropic needs the anthropic package: pip install 'llmlab[anthropic]'") from error
    _options.tracer_provider = tracer_provider
    _options.capture = capture
    if not _patcher.targets:
        _patcher.targets = [(Messages, "create", _wrap_sync), (AsyncMessages, "create", _wrap_async)]
    _patcher.patch()


def uninstrument() -> None:
    _patcher.unpatch()


def is_instrumented() -> bool:
    return _patcher.patched()
