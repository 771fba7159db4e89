"""The official `anthropic` Python client against the proxy's `POST /v1/messages` (see
conftest.py): passed through to Anthropic (fake_anthropic.py), translated for OpenAI and
Gemini; errors as the SDK's own exception classes."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import anthropic
import pytest
from anthropic import Anthropic

import fake_anthropic
import fake_gemini
import fake_openai
import pricing
from conftest import ANTHROPIC_SECRET, GEMINI_SECRET, PROVIDER_SECRET, Stack

MODEL = "claude-haiku-4-5"
COST = pricing.anthropic_cost(MODEL, fake_anthropic.USAGE)
MESSAGES: list[Any] = [{"role": "user", "content": "Say hello"}]
WEATHER_TOOL: Any = {
    "name": "get_weather",
    "description": "The current weather in a place",
    "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
}


def client(stack: Stack, key: str | None = None) -> Anthropic:
    return Anthropic(api_key=key or stack.multi_key, base_url=stack.root_url, max_retries=0, timeout=30)


def metered(stack: Stack, headers: Any, provider: str, cost: Decimal | None) -> str:
    request_id = headers["x-llmlab-request-id"]
    stack.multi_metered[request_id] = (provider, "" if cost is None else str(cost))
    return str(request_id)


def test_hand_computed_cost_is_what_the_catalog_says() -> None:
    # 12 uncached × 1 + 4 read × 0.10 + 2 written (5 m) × 1.25 + 4 written (1 h) × 2 + 5 out × 5, per million.
    assert COST == Decimal("0.0000479")


def test_message(stack: Stack) -> None:
    raw = client(stack).messages.with_raw_response.create(model=MODEL, max_tokens=256, messages=MESSAGES)
    message = raw.parse()
    request_id = metered(stack, raw.headers, "anthropic", COST)
    assert message.type == "message" and message.role == "assistant"
    assert message.model == MODEL
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == fake_anthropic.TEXT  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn"
    usage = message.usage
    assert (usage.input_tokens, usage.output_tokens) == (12, 5)
    assert (usage.cache_read_input_tokens, usage.cache_creation_input_tokens) == (4, 6)
    assert Decimal(raw.headers["x-llmlab-cost-usd"]) == COST
    # Anthropic was called with the project's Anthropic key, never the virtual key.
    sent = fake_anthropic.requests_for(stack.anthropic, MODEL)[-1]
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == ANTHROPIC_SECRET
    assert sent.headers.get("anthropic-version")
    assert stack.multi_key not in json.dumps(sent.headers)
    assert "authorization" not in sent.headers
    assert sent.headers.get("x-llmlab-request-id") == request_id
    assert sent.body["max_tokens"] == 256 and sent.body["messages"] == MESSAGES


def test_streaming(stack: Stack) -> None:
    with client(stack).messages.stream(model=MODEL, max_tokens=256, messages=MESSAGES) as stream:
        metered(stack, stream.response.headers, "anthropic", COST)
        assert stream.response.headers["content-type"].startswith("text/event-stream")
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert pieces == fake_anthropic.TEXT_PIECES
    assert final.content[0].text == fake_anthropic.TEXT  # type: ignore[union-attr]
    assert final.stop_reason == "end_turn" and final.model == MODEL
    # message_start's input counts, message_delta's final output count.
    assert (final.usage.input_tokens, final.usage.output_tokens) == (12, fake_anthropic.FINAL_OUTPUT_TOKENS)
    assert final.usage.cache_read_input_tokens == 4 and final.usage.cache_creation_input_tokens == 6
    assert fake_anthropic.requests_for(stack.anthropic, MODEL)[-1].body.get("stream") is True


def test_tool_use_round_trip(stack: Stack) -> None:
    c = client(stack)
    question: Any = {"role": "user", "content": "What is the weather in San Francisco?"}
    raw = c.messages.with_raw_response.create(model=MODEL, max_tokens=512, messages=[question], tools=[WEATHER_TOOL])
    metered(stack, raw.headers, "anthropic", COST)
    first = raw.parse()
    assert first.stop_reason == "tool_use"
    tool_uses = [b for b in first.content if b.type == "tool_use"]
    assert len(tool_uses) == 1
    call = tool_uses[0]
    assert call.name == "get_weather" and call.input == fake_anthropic.TOOL_INPUT  # type: ignore[union-attr]
    assert call.id == fake_anthropic.TOOL_USE_ID  # type: ignore[union-attr]
    assert fake_anthropic.requests_for(stack.anthropic, MODEL)[-1].body["tools"][0]["name"] == "get_weather"

    result: Any = {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": call.id, "content": "18 degrees, sunny"}]}  # type: ignore[union-attr]
    raw = c.messages.with_raw_response.create(
        model=MODEL, max_tokens=512, tools=[WEATHER_TOOL],
        messages=[question, {"role": "assistant", "content": first.content}, result])  # type: ignore[list-item]
    metered(stack, raw.headers, "anthropic", COST)
    final = raw.parse()
    assert final.stop_reason == "end_turn"
    assert final.content[0].text == fake_anthropic.FINAL_TEXT  # type: ignore[union-attr]
    sent = fake_anthropic.requests_for(stack.anthropic, MODEL)[-1].body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[1]["content"][-1]["type"] == "tool_use" and sent[1]["content"][-1]["id"] == fake_anthropic.TOOL_USE_ID
    assert sent[2]["content"][0] == {"type": "tool_result", "tool_use_id": fake_anthropic.TOOL_USE_ID,
                                     "content": "18 degrees, sunny"}


def test_bad_key_is_authentication_error(stack: Stack) -> None:
    with pytest.raises(anthropic.AuthenticationError) as caught:
        client(stack, key="llk_" + "x" * 43).messages.create(model=MODEL, max_tokens=16, messages=MESSAGES)
    assert caught.value.status_code == 401
    assert isinstance(caught.value.body, dict) and caught.value.body["type"] == "error"
    assert caught.value.body["error"]["type"] == "authentication_error"


@pytest.mark.parametrize("stream", [False, True])
def test_upstream_429_is_rate_limit_error(stack: Stack, stream: bool) -> None:
    before = len(fake_anthropic.requests_for(stack.anthropic, "rate-limited"))
    with pytest.raises(anthropic.RateLimitError) as caught:
        client(stack).messages.create(model="anthropic/rate-limited", max_tokens=16, messages=MESSAGES, stream=stream)
    metered(stack, caught.value.response.headers, "anthropic", None)
    assert caught.value.status_code == 429
    assert caught.value.response.headers["retry-after"] == fake_anthropic.RETRY_AFTER
    assert isinstance(caught.value.body, dict) and caught.value.body["error"]["type"] == "rate_limit_error"
    # `provider/model`: the provider's own model name upstream, called once (max_retries=0).
    assert len(fake_anthropic.requests_for(stack.anthropic, "rate-limited")) == before + 1


def test_missing_max_tokens_is_bad_request_error(stack: Stack) -> None:
    before = len(stack.anthropic.all())
    with pytest.raises(anthropic.BadRequestError) as caught:
        client(stack).post("/v1/messages", body={"model": MODEL, "messages": MESSAGES}, cast_to=object)
    assert caught.value.status_code == 400
    body = caught.value.body
    assert isinstance(body, dict) and body["type"] == "error", body
    assert body["error"]["type"] == "invalid_request_error" and "max_tokens" in body["error"]["message"]
    assert len(stack.anthropic.all()) == before, "a malformed request reached the provider"


def test_upstream_400_is_bad_request_error(stack: Stack) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        client(stack).messages.create(model="anthropic/bad-request", max_tokens=16, messages=MESSAGES)
    metered(stack, caught.value.response.headers, "anthropic", None)
    assert isinstance(caught.value.body, dict) and caught.value.body["error"]["type"] == "invalid_request_error"
    assert "roles must alternate" in caught.value.body["error"]["message"]


def test_model_no_provider_of_the_project_serves_is_not_found_error(stack: Stack) -> None:
    # Project "Anthropic only" may not use OpenAI.
    before = len(stack.fake.received)
    with pytest.raises(anthropic.NotFoundError) as caught:
        client(stack, key=stack.anthropic_only_key).messages.create(
            model="openai/gpt-4o-mini", max_tokens=16, messages=MESSAGES)
    assert caught.value.status_code == 404
    assert isinstance(caught.value.body, dict) and caught.value.body["type"] == "error"
    assert caught.value.body["error"]["type"] == "not_found_error"
    assert len(stack.fake.received) == before


def test_overloaded_529(stack: Stack) -> None:
    with pytest.raises(anthropic.InternalServerError) as caught:
        client(stack).messages.create(model="anthropic/overloaded", max_tokens=16, messages=MESSAGES)
    metered(stack, caught.value.response.headers, "anthropic", None)
    assert isinstance(caught.value, anthropic.OverloadedError)
    assert caught.value.status_code == 529
    assert isinstance(caught.value.body, dict) and caught.value.body["error"]["type"] == "overloaded_error"
    # The SDK called once (max_retries=0); the proxy retried the deployment once.
    assert len(fake_anthropic.requests_for(stack.anthropic, "overloaded")) == 2


def test_upstream_500_is_internal_server_error(stack: Stack) -> None:
    with pytest.raises(anthropic.InternalServerError) as caught:
        client(stack).messages.create(model="anthropic/server-error", max_tokens=16, messages=MESSAGES)
    metered(stack, caught.value.response.headers, "anthropic", None)
    assert caught.value.status_code == 500
    assert isinstance(caught.value.body, dict) and caught.value.body["error"]["type"] == "api_error"


def test_error_event_mid_stream_is_raised(stack: Stack) -> None:
    with pytest.raises(anthropic.APIStatusError) as caught:
        with client(stack).messages.stream(model="anthropic/mid-stream-error", max_tokens=16,
                                           messages=MESSAGES) as stream:
            stack.multi_metered[stream.response.headers["x-llmlab-request-id"]] = ("anthropic", "")
            for _ in stream.text_stream:
                pass
    assert isinstance(caught.value.body, dict), caught.value
    assert caught.value.body["error"]["type"] == "overloaded_error"


def test_openai_model_answered_in_anthropic_shape(stack: Stack) -> None:
    raw = client(stack).messages.with_raw_response.create(model="openai/gpt-4o-mini", max_tokens=64, messages=MESSAGES)
    metered(stack, raw.headers, "openai", pricing.openai_chat_cost("gpt-4o-mini", fake_openai.USAGE))
    message = raw.parse()
    assert message.type == "message" and message.role == "assistant"
    assert message.content[0].text == fake_openai.TEXT  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn"
    assert message.model == "gpt-4o-mini"
    # OpenAI's prompt_tokens (1200) include the 1024 cached ones; Anthropic's input_tokens do not.
    assert message.usage.input_tokens + (message.usage.cache_read_input_tokens or 0) == 1200
    assert message.usage.cache_read_input_tokens == 1024
    assert message.usage.output_tokens == 350
    sent = stack.fake.requests_for("gpt-4o-mini")[-1]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {PROVIDER_SECRET}"
    assert sent.body["messages"] == MESSAGES
    assert sent.body.get("max_completion_tokens", sent.body.get("max_tokens")) == 64


def test_openai_model_streamed_in_anthropic_shape(stack: Stack) -> None:
    with client(stack).messages.stream(model="openai/gpt-4o-mini", max_tokens=64, messages=MESSAGES) as stream:
        metered(stack, stream.response.headers, "openai", pricing.openai_chat_cost("gpt-4o-mini", fake_openai.USAGE))
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert pieces == fake_openai.CHUNKS
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == 350
    # The proxy asked OpenAI for the usage chunk, to meter the call.
    assert stack.fake.requests_for("gpt-4o-mini")[-1].body.get("stream_options") == {"include_usage": True}


def test_gemini_model_answered_in_anthropic_shape(stack: Stack) -> None:
    model = "gemini-2.5-flash"
    raw = client(stack).messages.with_raw_response.create(model=model, max_tokens=64, messages=MESSAGES)
    metered(stack, raw.headers, "gemini", pricing.gemini_cost(model, fake_gemini.USAGE))
    message = raw.parse()
    assert message.content[0].text == fake_gemini.TEXT  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn" and message.model == model
    assert message.usage.output_tokens == 7  # 5 candidates + 2 thoughts
    sent = fake_gemini.requests_for(stack.gemini, model)[-1]
    assert sent.path == f"/v1beta/models/{model}:generateContent"
    assert sent.headers["x-goog-api-key"] == GEMINI_SECRET
