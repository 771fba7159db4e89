"""Shared fixtures: a fresh llmlab.init with an in-memory exporter per test, and the fake
OpenAI / Anthropic upstreams from Tests/e2e (imported, not copied)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import llmlab

REPO = Path(__file__).resolve().parents[3]
E2E = REPO / "Tests" / "e2e"
if str(E2E) not in sys.path:
    sys.path.insert(0, str(E2E))


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    llmlab.init(exporter=memory, batch=False, project="sdk-tests", capture="full")
    yield memory
    llmlab.shutdown()


def by_name(spans: Any, name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert found, f"no span {name!r} in {[s.name for s in spans]}"
    return found[0]


@pytest.fixture(scope="session")
def fake_openai() -> Iterator[Any]:
    import fake_openai as module

    fake = module.start()
    yield fake
    fake.close()


@pytest.fixture(scope="session")
def fake_anthropic() -> Iterator[Any]:
    import fake_anthropic as module

    fake = module.start()
    yield fake
    fake.close()


def ours(exporter: InMemorySpanExporter) -> tuple[ReadableSpan, ...]:
    """The spans llmlab made (recent anthropic/openai clients may emit their own too)."""
    return tuple(s for s in exporter.get_finished_spans()
                 if s.instrumentation_scope is not None and s.instrumentation_scope.name == "llmlab")
