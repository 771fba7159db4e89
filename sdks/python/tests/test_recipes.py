"""Runs the Python block of each recipe in recipes/ as written, with llmlab.init exporting
to an in-memory exporter instead of OTLP, and checks the agent / tool / LLM spans."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import llmlab

RECIPES = Path(__file__).resolve().parents[1] / "recipes"


def python_block(name: str) -> str:
    blocks = re.findall(r"```python\n(.*?)```", (RECIPES / name).read_text(), re.S)
    assert len(blocks) == 1, f"{name}: expected one python block"
    return str(blocks[0])


@pytest.fixture
def run_recipe(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    memory = InMemorySpanExporter()
    real_init = llmlab.init
    monkeypatch.setenv("LLMLAB_API_KEY", "llk_recipe_test_key")

    def init(*args: Any, **kwargs: Any) -> Any:
        return real_init(*args, exporter=memory, batch=False, **kwargs)

    monkeypatch.setattr(llmlab, "init", init)

    def run(name: str) -> tuple[tuple[ReadableSpan, ...], dict[str, Any]]:
        namespace: dict[str, Any] = {"__name__": "recipe"}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            exec(compile(python_block(name), name, "exec"), namespace)
        return memory.get_finished_spans(), namespace

    yield run
    llmlab.shutdown()


def test_pydantic_ai_recipe(run_recipe: Any, capsys: pytest.CaptureFixture[str]) -> None:
    spans, _ = run_recipe("pydantic_ai.md")
    assert "sunny in" in capsys.readouterr().out
    operations = [s.attributes.get("gen_ai.operation.name") for s in spans]
    assert operations.count("invoke_agent") == 1 and operations.count("chat") == 2
    assert operations.count("execute_tool") == 1
    agent = next(s for s in spans if s.attributes.get("gen_ai.operation.name") == "invoke_agent")
    tool = next(s for s in spans if s.attributes.get("gen_ai.operation.name") == "execute_tool")
    chats = [s for s in spans if s.attributes.get("gen_ai.operation.name") == "chat"]
    assert agent.attributes["gen_ai.agent.name"] == "weather_agent"
    assert tool.attributes["gen_ai.tool.name"] == "get_weather"
    assert "gen_ai.tool.call.arguments" in tool.attributes and "gen_ai.tool.call.result" in tool.attributes
    for chat in chats:
        assert chat.attributes["gen_ai.request.model"] == "test"
        assert chat.attributes["gen_ai.usage.input_tokens"] > 0
        assert chat.attributes["gen_ai.usage.output_tokens"] > 0
        assert chat.parent is not None and chat.parent.span_id == agent.context.span_id
    assert {s.context.trace_id for s in spans} == {agent.context.trace_id}
    assert all(s.attributes.get("llmlab.session_id") == "session-42" for s in spans)
    assert all(s.attributes.get("llmlab.user_id") == "user-7" for s in spans)
    assert agent.resource.attributes["llmlab.project"] == "recipes-demo"
    assert agent.resource.attributes["service.name"] == "weather-bot"


def test_langgraph_recipe(run_recipe: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from openinference.instrumentation.langchain import LangChainInstrumentor

    try:
        spans, _ = run_recipe("langgraph.md")
    finally:
        LangChainInstrumentor().uninstrument()
    assert "It is sunny in Paris." in capsys.readouterr().out
    kinds = [s.attributes.get("openinference.span.kind") for s in spans]
    assert "AGENT" in kinds and "TOOL" in kinds and "CHAIN" in kinds
    llm = [s for s in spans if s.attributes.get("openinference.span.kind") == "LLM"]
    assert len(llm) == 2
    assert [s.attributes["llm.token_count.prompt"] for s in llm] == [20, 30]
    assert [s.attributes["llm.token_count.completion"] for s in llm] == [5, 7]
    tool = next(s for s in spans if s.attributes.get("openinference.span.kind") == "TOOL")
    assert tool.attributes["tool.name"] == "get_weather"
    roots = [s for s in spans if s.parent is None]
    assert [r.name for r in roots] == ["weather_graph"]
    assert {s.context.trace_id for s in spans} == {roots[0].context.trace_id}
    assert all(s.attributes.get("llmlab.session_id") == "session-43" for s in spans)
