from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

import llmlab
from conftest import ours
from llmlab.instrumentation import anthropic as anthropic_instrumentation

TOOLS = [{"name": "get_weather", "description": "weather", "input_schema": {"type": "object"}}]


@pytest.fixture
def instrumented(exporter: InMemorySpanExporter) -> Iterator[InMemorySpanExporter]:
    llmlab.instrument_anthropic()
    yield exporter
    llmlab.uninstrument_anthropic()


def client(fake: Any) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="sk-ant-test-abcdefgh", base_url=f"http://127.0.0.1:{fake.port}", max_retries=0)


def async_client(fake: Any) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(api_key="sk-ant-test-abcdefgh", base_url=f"http://127.0.0.1:{fake.port}", max_retries=0)


def check_usage(a: Any) -> None:
    assert a["gen_ai.usage.input_tokens"] == 12 + 4 + 6  # the GenAI count includes the cache
    assert a["gen_ai.usage.cache_read.input_tokens"] == 4
    assert a["gen_ai.usage.cache_creation.input_tokens"] == 6
    assert a["gen_ai.usage.output_tokens"] == 5


def test_message(instrumented: InMemorySpanExporter, fake_anthropic: Any) -> None:
    message = client(fake_anthropic).messages.create(
        model="claude-fake-1", max_tokens=100, system="be brief", messages=[{"role": "user", "content": "hi"}])
    assert message.content[0].text == "Hello there!"
    [span] = ours(instrumented)
    a = span.attributes
    assert span.name == "chat claude-fake-1"
    assert a["gen_ai.provider.name"] == "anthropic" and a["gen_ai.operation.name"] == "chat"
    assert a["gen_ai.request.max_tokens"] == 100 and a["gen_ai.response.model"] == "claude-fake-1"
    assert list(a["gen_ai.response.finish_reasons"]) == ["end_turn"]
    check_usage(a)
    assert json.loads(a["gen_ai.input.messages"])[0] == {"role": "system", "parts": [{"type": "text", "content": "be brief"}]}
    assert json.loads(a["gen_ai.output.messages"])[0]["parts"] == [{"type": "text", "content": "Hello there!"}]


def test_tool_use_stream(instrumented: InMemorySpanExporter, fake_anthropic: Any) -> None:
    stream = client(fake_anthropic).messages.create(
        model="claude-fake-1", max_tokens=100, messages=[{"role": "user", "content": "weather?"}],
        tools=TOOLS, stream=True)
    assert ours(instrumented) == ()
    events = [event.type for event in stream]
    assert events[-1] == "message_stop"
    [span] = ours(instrumented)
    a = span.attributes
    assert a["llmlab.streaming"] is True
    assert list(a["gen_ai.response.finish_reasons"]) == ["tool_use"]
    check_usage(a)
    parts = json.loads(a["gen_ai.output.messages"])[0]["parts"]
    assert parts == [{"type": "text", "content": "Let me check."},
                     {"type": "tool_call", "id": "toolu_fake01A09q90qw90lq917835", "name": "get_weather",
                      "arguments": {"location": "San Francisco, CA"}}]


def test_mid_stream_error(instrumented: InMemorySpanExporter, fake_anthropic: Any) -> None:
    stream = client(fake_anthropic).messages.create(
        model="mid-stream-error", max_tokens=10, messages=[{"role": "user", "content": "x"}], stream=True)
    with pytest.raises(anthropic.APIStatusError):
        for _ in stream:
            pass
    [span] = ours(instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"]


def test_error(instrumented: InMemorySpanExporter, fake_anthropic: Any) -> None:
    with pytest.raises(anthropic.RateLimitError):
        client(fake_anthropic).messages.create(model="rate-limited", max_tokens=10,
                                               messages=[{"role": "user", "content": "x"}])
    [span] = ours(instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "RateLimitError"
    assert span.attributes["http.response.status_code"] == 429


async def test_async(instrumented: InMemorySpanExporter, fake_anthropic: Any) -> None:
    c = async_client(fake_anthropic)
    await c.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    stream = await c.messages.create(model="claude-haiku-4-5", max_tokens=10,
                                     messages=[{"role": "user", "content": "hi"}], stream=True)
    async with stream:
        async for _ in stream:
            pass
    spans = ours(instrumented)
    assert len(spans) == 2
    check_usage(spans[0].attributes)
    check_usage(spans[1].attributes)
    assert json.loads(spans[1].attributes["gen_ai.output.messages"])[0]["parts"][0]["content"] == "Hello there!"


def test_idempotent(exporter: InMemorySpanExporter, fake_anthropic: Any) -> None:
    original = anthropic.resources.messages.Messages.create
    llmlab.instrument_anthropic()
    llmlab.instrument_anthropic()
    assert anthropic_instrumentation.is_instrumented()
    client(fake_anthropic).messages.create(model="m", max_tokens=5, messages=[{"role": "user", "content": "hi"}])
    assert len(ours(exporter)) == 1
    llmlab.uninstrument_anthropic()
    assert anthropic.resources.messages.Messages.create is original
    assert not anthropic_instrumentation.is_instrumented()
