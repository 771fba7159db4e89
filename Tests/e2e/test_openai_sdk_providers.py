"""The official `openai` Python client against Anthropic and Gemini models through the
proxy's `POST /v1/chat/completions` (translated both ways), and `POST /v1/embeddings`."""

from __future__ import annotations

import base64
import json
import struct
import time
from decimal import Decimal
from typing import Any

import openai
import pytest
from openai import OpenAI

import fake_anthropic
import fake_gemini
import fake_openai
import pricing
from conftest import ANTHROPIC_SECRET, GEMINI_SECRET, Stack

MESSAGES: list[Any] = [{"role": "user", "content": "Say hello"}]
WEATHER_TOOL: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
ANTHROPIC_MODEL = "claude-haiku-4-5"
GEMINI_MODEL = "gemini-2.5-flash"
# provider, model, its fake's text pieces when streaming, OpenAI usage (prompt, completion,
# cached, reasoning) the proxy reports, expected cost, the function arguments the fake sends.
CASES: dict[str, Any] = {
    "anthropic": dict(model=ANTHROPIC_MODEL, pieces=fake_anthropic.TEXT_PIECES, text=fake_anthropic.TEXT,
                      # prompt = 12 uncached + 4 read + 6 written; Anthropic reports no reasoning apart.
                      usage=(22, 5, 4, 0), cost=pricing.anthropic_cost(ANTHROPIC_MODEL, fake_anthropic.USAGE),
                      args=fake_anthropic.TOOL_INPUT),
    "gemini": dict(model=GEMINI_MODEL, pieces=fake_gemini.CHUNK_TEXTS, text=fake_gemini.TEXT,
                   # prompt includes the 4 cached; completion = 5 candidates + 2 thoughts.
                   usage=(12, 7, 4, 2), cost=pricing.gemini_cost(GEMINI_MODEL, fake_gemini.USAGE),
                   args=fake_gemini.FUNCTION_ARGS),
}
PROVIDERS = list(CASES)


def client(stack: Stack) -> OpenAI:
    return OpenAI(api_key=stack.multi_key, base_url=stack.base_url, max_retries=0, timeout=30)


def metered(stack: Stack, headers: Any, provider: str, cost: Decimal | None) -> None:
    stack.multi_metered[headers["x-llmlab-request-id"]] = (provider, "" if cost is None else str(cost))


def last_upstream(stack: Stack, provider: str) -> Any:
    if provider == "anthropic":
        sent = fake_anthropic.requests_for(stack.anthropic, ANTHROPIC_MODEL)[-1]
        assert sent.path == "/v1/messages" and sent.headers["x-api-key"] == ANTHROPIC_SECRET
    else:
        sent = fake_gemini.requests_for(stack.gemini, GEMINI_MODEL)[-1]
        assert sent.path.startswith(f"/v1beta/models/{GEMINI_MODEL}:")
        assert sent.headers["x-goog-api-key"] == GEMINI_SECRET
    assert stack.multi_key not in json.dumps(sent.headers)
    return sent


def test_hand_computed_gemini_cost_is_what_the_catalog_says() -> None:
    # 8 uncached × 0.30 + 4 cached × 0.03 + 5 output × 2.50 + 2 thoughts × 2.50, per million.
    assert CASES["gemini"]["cost"] == Decimal("0.00002002")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_chat_completion(stack: Stack, provider: str) -> None:
    case = CASES[provider]
    raw = client(stack).chat.completions.with_raw_response.create(model=case["model"], messages=MESSAGES)
    metered(stack, raw.headers, provider, case["cost"])
    completion = raw.parse()
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == case["text"]
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == case["model"]
    usage = completion.usage
    assert usage is not None
    prompt, completion_tokens, cached, reasoning = case["usage"]
    assert (usage.prompt_tokens, usage.completion_tokens) == (prompt, completion_tokens)
    assert usage.total_tokens == prompt + completion_tokens
    assert usage.prompt_tokens_details and usage.prompt_tokens_details.cached_tokens == cached
    if reasoning:
        assert usage.completion_tokens_details and usage.completion_tokens_details.reasoning_tokens == reasoning
    assert Decimal(raw.headers["x-llmlab-cost-usd"]) == case["cost"]
    sent = last_upstream(stack, provider)
    if provider == "anthropic":
        assert sent.body["messages"] == MESSAGES and sent.body["max_tokens"] > 0  # Anthropic requires it
    else:
        assert sent.path == f"/v1beta/models/{GEMINI_MODEL}:generateContent"
        assert sent.body["contents"] == [{"role": "user", "parts": [{"text": "Say hello"}]}]


@pytest.mark.parametrize("include_usage", [False, True])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_streaming(stack: Stack, provider: str, include_usage: bool) -> None:
    case = CASES[provider]
    extra: dict[str, Any] = {"stream_options": {"include_usage": True}} if include_usage else {}
    raw = client(stack).chat.completions.with_raw_response.create(model=case["model"], messages=MESSAGES, stream=True,
                                                                  **extra)
    metered(stack, raw.headers, provider, case["cost"])
    assert raw.headers["content-type"].startswith("text/event-stream")
    chunks = list(raw.parse())
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert pieces == case["pieces"]
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    with_usage = [c for c in chunks if c.usage is not None]
    if include_usage:
        assert len(with_usage) == 1 and with_usage[0] is chunks[-1] and chunks[-1].choices == []
        prompt, completion_tokens, _, _ = case["usage"]
        assert (with_usage[0].usage.prompt_tokens, with_usage[0].usage.completion_tokens) == (prompt, completion_tokens)
    else:
        assert with_usage == [], "a usage chunk reached a client that did not ask for one"
        assert all(c.choices for c in chunks)
    sent = last_upstream(stack, provider)
    if provider == "gemini":
        assert sent.path == f"/v1beta/models/{GEMINI_MODEL}:streamGenerateContent?alt=sse"
    else:
        assert sent.body.get("stream") is True


@pytest.mark.parametrize("provider", PROVIDERS)
def test_tool_calls(stack: Stack, provider: str) -> None:
    case = CASES[provider]
    raw = client(stack).chat.completions.with_raw_response.create(
        model=case["model"], messages=[{"role": "user", "content": "Weather in Paris?"}], tools=[WEATHER_TOOL])
    metered(stack, raw.headers, provider, case["cost"])
    choice = raw.parse().choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls and len(choice.message.tool_calls) == 1
    call = choice.message.tool_calls[0]
    assert call.type == "function" and call.function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == case["args"]  # type: ignore[union-attr]
    assert call.id
    sent = last_upstream(stack, provider)
    if provider == "anthropic":
        assert sent.body["tools"][0]["name"] == "get_weather"
        assert sent.body["tools"][0]["input_schema"] == WEATHER_TOOL["function"]["parameters"]
    else:
        assert sent.body["tools"][0]["functionDeclarations"][0]["name"] == "get_weather"


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_upstream_429_is_rate_limit_error(stack: Stack, provider: str, stream: bool) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        client(stack).chat.completions.create(model=f"{provider}/rate-limited", messages=MESSAGES, stream=stream)
    metered(stack, caught.value.response.headers, provider, None)
    assert caught.value.status_code == 429
    assert caught.value.response.headers["retry-after"] == "30"
    assert caught.value.type == "rate_limit_error"  # OpenAI's shape, whatever the provider said


@pytest.mark.parametrize(("provider", "status"), [("anthropic", 529), ("gemini", 503)])
def test_upstream_overloaded_is_api_status_error(stack: Stack, provider: str, status: int) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        client(stack).chat.completions.create(model=f"{provider}/overloaded", messages=MESSAGES)
    metered(stack, caught.value.response.headers, provider, None)
    assert caught.value.status_code == status
    assert isinstance(caught.value, openai.InternalServerError)
    assert isinstance(caught.value.body, dict) and caught.value.body.get("message")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_upstream_400_is_bad_request_error(stack: Stack, provider: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client(stack).chat.completions.create(model=f"{provider}/bad-request", messages=MESSAGES)
    metered(stack, caught.value.response.headers, provider, None)
    assert caught.value.type == "invalid_request_error"


EMBEDDING_INPUTS = ["the first text", "the second text"]
EMBEDDING_TOKENS = fake_openai.EMBEDDING_TOKENS_PER_INPUT * len(EMBEDDING_INPUTS)


@pytest.mark.parametrize("encoding_format", [None, "float"])
def test_embeddings(stack: Stack, encoding_format: str | None) -> None:
    model = "text-embedding-3-small"
    extra: dict[str, Any] = {"encoding_format": encoding_format} if encoding_format else {}
    raw = client(stack).embeddings.with_raw_response.create(model=model, input=EMBEDDING_INPUTS, **extra)
    cost = pricing.openai_embeddings_cost(model, EMBEDDING_TOKENS)
    metered(stack, raw.headers, "openai", cost)
    result = raw.parse()
    assert result.object == "list" and result.model == model
    assert [e.index for e in result.data] == [0, 1]
    assert [e.embedding for e in result.data] == [fake_openai.embedding_vector(0), fake_openai.embedding_vector(1)]
    assert (result.usage.prompt_tokens, result.usage.total_tokens) == (EMBEDDING_TOKENS, EMBEDDING_TOKENS)
    assert Decimal(raw.headers["x-llmlab-cost-usd"]) == cost
    sent = [r for r in stack.fake.received if r.path == "/v1/embeddings"][-1]
    assert sent.body["input"] == EMBEDDING_INPUTS and sent.body["model"] == model
    # Without encoding_format the SDK asks for base64 and decodes it: the proxy passed that through.
    assert sent.body.get("encoding_format") == (encoding_format or "base64")


def test_fake_base64_embedding_is_float32() -> None:
    encoded = fake_openai.embeddings({"input": ["x"], "encoding_format": "base64"})["data"][0]["embedding"]
    raw = base64.b64decode(encoded)
    assert list(struct.unpack(f"<{len(raw) // 4}f", raw)) == fake_openai.embedding_vector(0)


def test_route_alias_served_by_anthropic(stack: Stack) -> None:
    keys = stack.admin_json("key", "list", "--project", stack.multi_project_id)
    keys = keys.get("keys", keys) if isinstance(keys, dict) else keys
    anthropic_keys = [k for k in keys if "anthropic" in str(k.get("provider", "")).lower()]
    assert len(anthropic_keys) == 1, json.dumps(keys)
    key_id = anthropic_keys[0]["id"]
    stack.admin("route", "set", "--project", stack.multi_project_id, "--alias", "chat/default",
                "--deployment", f"provider=anthropic,model={ANTHROPIC_MODEL},key={key_id}")
    raw = None
    deadline = time.monotonic() + 10
    while True:  # the proxy picks up the new route through its change signal
        try:
            raw = client(stack).chat.completions.with_raw_response.create(model="chat/default", messages=MESSAGES)
            break
        except openai.NotFoundError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    metered(stack, raw.headers, "anthropic", CASES["anthropic"]["cost"])
    assert raw.parse().choices[0].message.content == fake_anthropic.TEXT
    assert last_upstream(stack, "anthropic").body["model"] == ANTHROPIC_MODEL
