"""`llmlab-admin usage list --json` after the calls to project "Providers e2e": one event per
call, with the provider that served it and the cost worked out by hand from the catalog.
Runs after test_anthropic_sdk.py and test_openai_sdk_providers.py (file order) and checks
their calls too; makes calls of its own so it also stands alone."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

from anthropic import Anthropic
from openai import OpenAI

import fake_anthropic
import fake_gemini
import pricing
from conftest import Stack

ANTHROPIC_MODEL = "claude-haiku-4-5"
GEMINI_MODEL = "gemini-2.5-flash"
ANTHROPIC_COST = pricing.anthropic_cost(ANTHROPIC_MODEL, fake_anthropic.USAGE)
GEMINI_COST = pricing.gemini_cost(GEMINI_MODEL, fake_gemini.USAGE)
MESSAGES: list[Any] = [{"role": "user", "content": "Say hello"}]


def _events(stack: Stack, wanted: set[str]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:  # the usage writer flushes in batches
        events = stack.admin_json("usage", "list", "--project", stack.multi_project_id)
        if wanted <= {e.get("requestId") for e in events}:
            break
        time.sleep(0.2)
    return events


def test_usage_events_name_the_provider_and_price_catalog_models(stack: Stack) -> None:
    a = Anthropic(api_key=stack.multi_key, base_url=stack.root_url, max_retries=0, timeout=30)
    raw = a.messages.with_raw_response.create(model=ANTHROPIC_MODEL, max_tokens=64, messages=MESSAGES)
    anthropic_id = raw.headers["x-llmlab-request-id"]
    stack.multi_metered[anthropic_id] = ("anthropic", str(ANTHROPIC_COST))
    o = OpenAI(api_key=stack.multi_key, base_url=stack.base_url, max_retries=0, timeout=30)
    raw = o.chat.completions.with_raw_response.create(model=GEMINI_MODEL, messages=MESSAGES)
    gemini_id = raw.headers["x-llmlab-request-id"]
    stack.multi_metered[gemini_id] = ("gemini", str(GEMINI_COST))

    events = _events(stack, set(stack.multi_metered))
    by_id = {e["requestId"]: e for e in events}
    assert len(by_id) == len(events), "more than one event for a request"
    assert set(by_id) == set(stack.multi_metered)
    providers = {e.get("provider") for e in events}
    assert {"anthropic", "gemini"} <= providers, providers

    for request_id, (provider, cost) in stack.multi_metered.items():
        event = by_id[request_id]
        assert event.get("provider") == provider, json.dumps(event)
        if cost:
            assert event.get("status") == 200, json.dumps(event)
            assert event.get("priced") is True, json.dumps(event)
            assert Decimal(event["costUsd"]) == Decimal(cost), json.dumps(event)
        else:
            assert event.get("status", 0) >= 400 and not event.get("costUsd"), json.dumps(event)

    # One of each checked field by field against the fake's usage numbers.
    anthropic_event = by_id[anthropic_id]
    assert anthropic_event.get("model") == ANTHROPIC_MODEL
    assert Decimal(anthropic_event["costUsd"]) == Decimal("0.0000479")
    assert int(anthropic_event.get("cachedInputTokens", 0)) == 4, json.dumps(anthropic_event)
    gemini_event = by_id[gemini_id]
    assert gemini_event.get("model") == GEMINI_MODEL
    assert Decimal(gemini_event["costUsd"]) == Decimal("0.00002002")
    assert int(gemini_event.get("cachedInputTokens", 0)) == 4, json.dumps(gemini_event)
    assert int(gemini_event.get("reasoningTokens", 0)) == 2, json.dumps(gemini_event)
