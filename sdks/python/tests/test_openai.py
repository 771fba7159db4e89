from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import llmlab
from conftest import ours
from llmlab.instrumentation import openai as openai_instrumentation


@pytest.fixture
def instrumented(exporter: InMemorySpanExporter) -> Iterator[InMemorySpanExporter]:
    llmlab.instrument_openai()
    yield exporter
    llmlab.uninstrument_openai()


def client(fake: Any) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test-abcdefghijkl", base_url=f"http://127.0.0.1:{fake.port}/v1", max_retries=0)


def async_client(fake: Any) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key="sk-test-abcdefghijkl", base_url=f"http://127.0.0.1:{fake.port}/v1", max_retries=0)


def check_usage(attributes: Any) -> None:
    assert attributes["gen_ai.usage.input_tokens"] == 1200  # includes the 1024 cached
    assert attributes["gen_ai.usage.output_tokens"] == 350  # includes the 128 reasoning
    assert attributes["gen_ai.usage.cache_read.input_tokens"] == 1024
    assert attributes["gen_ai.usage.reasoning.output_tokens"] == 128


def test_chat_completion(instrumented: InMemorySpanExporter, fake_openai: Any) -> None:
    with llmlab.set_session("s-1"):
        answer = client(fake_openai).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
            temperature=0.2, max_tokens=50)
    assert answer.choices[0].message.content == "Hello there!"
    [span] = ours(instrumented)
    a = span.attributes
    assert span.name == "chat gpt-4o-mini" and span.kind is SpanKind.CLIENT
    assert a["gen_ai.operation.name"] == "chat" and a["gen_ai.provider.name"] == "openai"
    assert a["llmlab.span.kind"] == "llm" and a["llmlab.session_id"] == "s-1"
    assert a["gen_ai.request.model"] == "gpt-4o-mini" and a["gen_ai.response.model"] == "gpt-4o-mini"
    assert a["gen_ai.request.temperature"] == 0.2 and a["gen_ai.request.max_tokens"] == 50
    assert list(a["gen_ai.response.finish_reasons"]) == ["stop"]
    assert a["gen_ai.response.id"] == "chatcmpl-fake123"
    assert a["server.address"] == "127.0.0.1"
    check_usage(a)
    assert json.loads(a["gen_ai.input.messages"])[1] == {"role": "user", "parts": [{"type": "text", "content": "hi"}]}
    output = json.loads(a["gen_ai.output.messages"])
    assert output == [{"role": "assistant", "parts": [{"type": "text", "content": "Hello there!"}], "finish_reason": "stop"}]
    assert span.end_time > span.start_time
    assert span.status.status_code is StatusCode.UNSET


def test_tool_calls_and_parent(instrumented: InMemorySpanExporter, fake_openai: Any) -> None:
    @llmlab.trace(name="agent", kind="agent")
    def agent() -> Any:
        return client(fake_openai).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "weather?"}],
            tools=[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}])

    agent()
    chat = [s for s in ours(instrumented) if s.name == "chat gpt-4o"][0]
    parent = [s for s in ours(instrumented) if s.name == "agent"][0]
    assert chat.parent.span_id == parent.context.span_id
    assert list(chat.attributes["gen_ai.response.finish_reasons"]) == ["tool_calls"]
    [message] = json.loads(chat.attributes["gen_ai.output.messages"])
    assert message["parts"] == [{"type": "tool_call", "id": "call_fake1", "name": "get_weather",
                                 "arguments": {"city": "Paris", "unit": "celsius"}}]


def test_streaming_span_ends_when_consumed(instrumented: InMemorySpanExporter, fake_openai: Any) -> None:
    stream = client(fake_openai).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True,
        stream_options={"include_usage": True})
    assert ours(instrumented) == ()
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "Hello there!"
    [span] = ours(instrumented)
    a = span.attributes
    assert a["llmlab.streaming"] is True and a["llmlab.ttft_ms"] >= 0
    assert list(a["gen_ai.response.finish_reasons"]) == ["stop"]
    check_usage(a)
    assert json.loads(a["gen_ai.output.messages"])[0]["parts"] == [{"type": "text", "content": "Hello there!"}]


def test_streaming_closed_early(instrumented: InMemorySpanExporter, fake_openai: Any) -> None:
    with client(fake_openai).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True) as stream:
        next(iter(stream))
    [span] = ours(instrumented)
    assert span.attributes["gen_ai.response.model"] == "gpt-4o-mini"
    assert "gen_ai.usage.input_tokens" not in span.attributes  # no include_usage


def test_error_sets_error_type(instrumented: InMemorySpanExporter, fake_openai: Any) -> None:
    with pytest.raises(openai.RateLimitError):
        client(fake_openai).chat.completions.create(model="rate-limited", messages=[{"role": "user", "content": "x"}])
    [span] = ours(instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "RateLimitError"
    assert span.attributes["http.response.status_code"] == 429


async def test_async_client_and_stream(instrumented: InMemorySpanExporter, fake_openai: Any) -> None:
    c = async_client(fake_openai)
    answer = await c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == "Hello there!"
    stream = await c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}],
                                             stream=True, stream_options={"include_usage": True})
    chunks = [chunk async for chunk in stream]
    assert chunks
    with pytest.raises(openai.InternalServerError):
        await c.chat.completions.create(model="server-error", messages=[{"role": "user", "content": "x"}])
    spans = ours(instrumented)
    assert len(spans) == 3
    check_usage(spans[0].attributes)
    check_usage(spans[1].attributes)
    assert spans[1].attributes["llmlab.streaming"] is True
    assert spans[2].attributes["error.type"] == "InternalServerError"


def test_capture_none_keeps_content_out(exporter: InMemorySpanExporter, fake_openai: Any) -> None:
    llmlab.instrument_openai(capture="none")
    try:
        client(fake_openai).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "secret plan"}])
    finally:
        llmlab.uninstrument_openai()
    [span] = ours(exporter)
    assert "gen_ai.input.messages" not in span.attributes and "gen_ai.output.messages" not in span.attributes
    assert span.attributes["gen_ai.usage.input_tokens"] == 1200


def test_instrument_is_idempotent_and_reversible(exporter: InMemorySpanExporter, fake_openai: Any) -> None:
    original = openai.resources.chat.completions.Completions.create
    llmlab.instrument_openai()
    llmlab.instrument_openai()
    assert openai_instrumentation.is_instrumented()
    client(fake_openai).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert len(ours(exporter)) == 1  # one span, not two
    llmlab.uninstrument_openai()
    llmlab.uninstrument_openai()
    assert openai.resources.chat.completions.Completions.create is original
    client(fake_openai).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert len(ours(exporter)) == 1
