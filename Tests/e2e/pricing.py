"""Costs worked out by hand (decimal.Decimal) from the shipped catalog's prices (USD per
million tokens) and a provider's documented usage object, so the tests check the server's
pricing instead of repeating it."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from conftest import REPO

CATALOG = REPO / "Sources/LLMLabCore/Pricing/catalog.json"
MILLION = Decimal(1_000_000)


def prices(provider: str, model: str) -> dict[str, Decimal]:
    entries = [e for e in json.loads(CATALOG.read_text())["entries"]
               if e["provider"] == provider and (e["model"] == model or model in e.get("aliases", []))
               and date.fromisoformat(e["effective_from"]) <= date.today()]
    assert entries, f"no catalog price for {provider}/{model}"
    return {k: Decimal(v) for k, v in max(entries, key=lambda e: e["effective_from"])["prices"].items()}


def anthropic_cost(model: str, usage: dict[str, Any]) -> Decimal:
    """Anthropic's input counts are disjoint: input_tokens excludes cache reads and writes;
    writes are split by TTL in cache_creation; output_tokens includes thinking."""
    p = prices("anthropic", model)
    split = usage["cache_creation"]
    assert split["ephemeral_5m_input_tokens"] + split["ephemeral_1h_input_tokens"] == usage["cache_creation_input_tokens"]
    return (usage["input_tokens"] * p["input"] + usage["cache_read_input_tokens"] * p["cached_input"]
            + split["ephemeral_5m_input_tokens"] * p["cache_write_5m"]
            + split["ephemeral_1h_input_tokens"] * p["cache_write_1h"]
            + usage["output_tokens"] * p["output"]) / MILLION


def gemini_cost(model: str, usage: dict[str, Any]) -> Decimal:
    """Gemini's promptTokenCount includes cachedContentTokenCount; thoughtsTokenCount is
    reported apart from candidatesTokenCount and billed at the output price."""
    p = prices("gemini", model)
    cached = usage.get("cachedContentTokenCount", 0)
    return ((usage["promptTokenCount"] - cached) * p["input"] + cached * p["cached_input"]
            + usage["candidatesTokenCount"] * p["output"]
            + usage.get("thoughtsTokenCount", 0) * p.get("reasoning", p["output"])) / MILLION


def openai_embeddings_cost(model: str, prompt_tokens: int) -> Decimal:
    return prompt_tokens * prices("openai", model)["input"] / MILLION


def openai_chat_cost(model: str, usage: dict[str, Any]) -> Decimal:
    """OpenAI's prompt_tokens include the cached ones, completion_tokens the reasoning ones;
    reasoning is billed at the output price unless the entry has a reasoning price."""
    p = prices("openai", model)
    cached = usage.get("prompt_tokens_details", {}).get("cached_tokens", 0)
    reasoning = usage.get("completion_tokens_details", {}).get("reasoning_tokens", 0)
    return ((usage["prompt_tokens"] - cached) * p["input"] + cached * p["cached_input"]
            + (usage["completion_tokens"] - reasoning) * p["output"]
            + reasoning * p.get("reasoning", p["output"])) / MILLION
