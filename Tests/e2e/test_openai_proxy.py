"""The official `openai` Python client against the running proxy (see conftest.py)."""

from __future__ import annotations

import json
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import openai
import pytest
from openai import OpenAI

import fake_openai
from conftest import PROVIDER_SECRET, REPO, Stack

MODEL = "gpt-4o-mini"
CATALOG = REPO / "Sources/LLMLabCore/Pricing/catalog.json"
MESSAGES: list[Any] = [{"role": "user", "content": "Say hello"}]
WEATHER_TOOL: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
                       "required": ["city"]},
    },
}


def client(stack: Stack, key: str | None = None) -> OpenAI:
    return OpenAI(api_key=key or stack.proxy_key, base_url=stack.base_url, max_retries=0, timeout=30)


def expected_cost(model: str, usage: dict[str, Any], catalog: Path = CATALOG) -> Decimal:
    """The cost worked out by hand from the catalog's numbers (USD per million tokens):
    OpenAI's prompt_tokens include the cached ones, completion_tokens the reasoning ones;
    reasoning is billed at the output price unless the entry has a reasoning price."""
    entries = [e for e in json.loads(catalog.read_text())["entries"]
               if e["provider"] == "openai" and (e["model"] == model or model in e.get("aliases", []))
               and date.fromisoformat(e["effective_from"]) <= date.today()]
    assert entries, f"no catalog price for openai/{model}"
    prices = {k: Decimal(v) for k, v in max(entries, key=lambda e: e["effective_from"])["prices"].items()}
    cached = usage["prompt_tokens_details"]["cached_tokens"]
    reasoning = usage["completion_tokens_details"]["reasoning_tokens"]
    uncached = usage["prompt_tokens"] - cached
    output = usage["completion_tokens"] - reasoning
    per_million = (uncached * prices["input"] + cached * prices["cached_input"] + output * prices["output"]
                   + reasoning * prices.get("reasoning", prices["output"]))
    return per_million / Decimal(1_000_000)


COST = expected_cost(MODEL, fake_openai.USAGE)


def test_hand_computed_cost_is_what_the_catalog_says() -> None:
    # 176 uncached × 0.15 + 1024 cached × 0.075 + 222 output × 0.60 + 128 reasoning × 0.60, per million.
    assert COST == Decimal("0.0003132")


def test_chat_completion(stack: Stack) -> None:
    raw = client(stack).chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES)
    completion = raw.parse()
    request_id = raw.headers["x-llmlab-request-id"]
    stack.metered[request_id] = str(COST)
    assert completion.choices[0].message.content == fake_openai.TEXT
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == MODEL
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 1200 and completion.usage.completion_tokens == 350
    assert completion.usage.prompt_tokens_details and completion.usage.prompt_tokens_details.cached_tokens == 1024
    assert completion.usage.completion_tokens_details
    assert completion.usage.completion_tokens_details.reasoning_tokens == 128
    assert Decimal(raw.headers["x-llmlab-cost-usd"]) == COST
    # The proxy called the provider with the decrypted provider key, never the virtual key.
    sent = stack.fake.requests_for(MODEL)[-1]
    assert sent.headers["authorization"] == f"Bearer {PROVIDER_SECRET}"
    assert stack.proxy_key not in json.dumps(sent.headers)
    assert sent.headers.get("x-llmlab-request-id") == request_id


def _stream(stack: Stack, **kwargs: Any) -> list[Any]:
    raw = client(stack).chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES, stream=True, **kwargs)
    stack.metered[raw.headers["x-llmlab-request-id"]] = str(COST)
    assert raw.headers["content-type"].startswith("text/event-stream")
    return list(raw.parse())


def test_streaming_without_usage(stack: Stack) -> None:
    chunks = _stream(stack)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == fake_openai.TEXT
    assert [c.choices[0].delta.content for c in chunks[:4]] == fake_openai.CHUNKS
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks), "a usage chunk reached a client that did not ask for one"
    assert all(c.choices for c in chunks)


def test_streaming_with_usage(stack: Stack) -> None:
    chunks = _stream(stack, stream_options={"include_usage": True})
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == fake_openai.TEXT
    with_usage = [c for c in chunks if c.usage is not None]
    assert len(with_usage) == 1
    assert with_usage[0] is chunks[-1] and chunks[-1].choices == []
    assert with_usage[0].usage.prompt_tokens == 1200 and with_usage[0].usage.completion_tokens == 350


def test_tool_calls(stack: Stack) -> None:
    raw = client(stack).chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "Weather in Paris?"}], tools=[WEATHER_TOOL])
    stack.metered[raw.headers["x-llmlab-request-id"]] = str(COST)
    choice = raw.parse().choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls
    call = choice.message.tool_calls[0]
    assert call.type == "function" and call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris", "unit": "celsius"}
    assert stack.fake.requests_for(MODEL)[-1].body["tools"][0]["function"]["name"] == "get_weather"


def test_models_list(stack: Stack) -> None:
    models = list(client(stack).models.list())
    ids = {m.id for m in models}
    assert MODEL in ids and "gpt-4o" in ids
    assert all(m.object == "model" for m in models)


def test_bad_key_is_authentication_error(stack: Stack) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        client(stack, key="llk_" + "x" * 43).chat.completions.create(model=MODEL, messages=MESSAGES)
    assert caught.value.status_code == 401
    assert caught.value.response.headers.get("x-llmlab-request-id")


def test_key_without_proxy_scope_is_permission_denied(stack: Stack) -> None:
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client(stack, key=stack.control_key).chat.completions.create(model=MODEL, messages=MESSAGES)
    assert caught.value.status_code == 403


def _metered_error(stack: Stack, error: openai.APIStatusError) -> None:
    stack.metered[error.response.headers["x-llmlab-request-id"]] = ""


@pytest.mark.parametrize("stream", [False, True])
def test_upstream_429_is_rate_limit_error(stack: Stack, stream: bool) -> None:
    before = len(stack.fake.requests_for("rate-limited"))
    with pytest.raises(openai.RateLimitError) as caught:
        client(stack).chat.completions.create(model="rate-limited", messages=MESSAGES, stream=stream)
    _metered_error(stack, caught.value)
    # retry-after is longer than the proxy's retry wait: answered at once, no retry.
    assert len(stack.fake.requests_for("rate-limited")) == before + 1
    assert caught.value.response.headers["retry-after"] == fake_openai.RETRY_AFTER
    assert caught.value.code == "rate_limit_exceeded"


def test_upstream_500_is_internal_server_error(stack: Stack) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        client(stack).chat.completions.create(model="server-error", messages=MESSAGES)
    _metered_error(stack, caught.value)
    assert caught.value.status_code == 500
    # max_retries=0: the SDK called once; the proxy retried the deployment once after a 500.
    assert len(stack.fake.requests_for("server-error")) == 2


def test_upstream_400_is_bad_request_error(stack: Stack) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client(stack).chat.completions.create(model="bad-request", messages=MESSAGES)
    _metered_error(stack, caught.value)
    assert caught.value.type == "invalid_request_error" and caught.value.param == "temperature"


def test_malformed_request_is_bad_request_error(stack: Stack) -> None:
    before = len(stack.fake.received)
    with pytest.raises(openai.BadRequestError) as caught:
        client(stack).post("/chat/completions", body={"model": MODEL}, cast_to=object)  # no messages
    assert caught.value.type == "invalid_request_error" and caught.value.param == "messages"
    assert len(stack.fake.received) == before, "a malformed request reached the provider"


def test_usage_list_has_one_event_per_request_with_the_same_cost(stack: Stack) -> None:
    # Runs last (file order); one call of its own so it also stands alone.
    raw = client(stack).chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES)
    stack.metered[raw.headers["x-llmlab-request-id"]] = raw.headers["x-llmlab-cost-usd"]
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:  # the usage writer flushes in batches
        events = [e for e in stack.admin_json("usage", "list", "--project", stack.project_id)
                  if e.get("model") != "slow-eof"]  # that test's own call
        if len(events) >= len(stack.metered):
            break
        time.sleep(0.2)
    by_id = {e["requestId"]: e for e in events}
    assert len(by_id) == len(events), "more than one event for a request"
    assert set(by_id) == set(stack.metered)
    for request_id, cost in stack.metered.items():
        event = by_id[request_id]
        assert event.get("provider") == "openai"
        if cost:
            assert event.get("priced") is True
            assert Decimal(event["costUsd"]) == Decimal(cost) == COST, json.dumps(event)
            assert int(event.get("cachedInputTokens", 0)) == 1024 and int(event.get("reasoningTokens", 0)) == 128
        else:
            assert event.get("status", 0) >= 400 and not event.get("costUsd"), json.dumps(event)


def test_stream_is_metered_when_the_client_closes_right_after_done(stack: Stack) -> None:
    raw = client(stack).chat.completions.with_raw_response.create(model="slow-eof", messages=MESSAGES, stream=True)
    request_id = raw.headers["x-llmlab-request-id"]
    assert "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices) == fake_openai.TEXT
    time.sleep(1.0)  # the upstream body has ended by now
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not events:
        events = [e for e in stack.admin_json("usage", "list", "--project", stack.project_id, "--model", "slow-eof")
                  if e["requestId"] == request_id]
        time.sleep(0.2)
    assert len(events) == 1
    assert events[0].get("status") == 200 and events[0].get("errorClass", "") == "", json.dumps(events[0])
    assert int(events[0].get("cachedInputTokens", 0)) == 1024  # its usage was seen and kept
