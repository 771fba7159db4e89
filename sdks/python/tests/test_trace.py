from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

import llmlab
from conftest import by_name


def test_sync_function_span_name_kind_and_capture(exporter: InMemorySpanExporter) -> None:
    @llmlab.trace
    def add(a: int, b: int = 2) -> int:
        return a + b

    assert add(1) == 3
    span = by_name(exporter.get_finished_spans(), add.__qualname__)
    assert json.loads(span.attributes["llmlab.input"]) == {"a": 1, "b": 2}
    assert json.loads(span.attributes["llmlab.output"]) == 3
    assert span.status.status_code is StatusCode.UNSET
    assert span.resource.attributes["llmlab.project"] == "sdk-tests"


def test_kinds_map_to_gen_ai_operations(exporter: InMemorySpanExporter) -> None:
    @llmlab.trace(name="get_weather", kind="tool", attributes={"team": "a"})
    def tool(city: str) -> str:
        return f"sunny in {city}"

    @llmlab.trace(name="planner", kind="agent")
    def agent() -> str:
        return tool("Paris")

    agent()
    spans = exporter.get_finished_spans()
    tool_span, agent_span = by_name(spans, "get_weather"), by_name(spans, "planner")
    assert tool_span.attributes["llmlab.span.kind"] == "tool"
    assert tool_span.attributes["gen_ai.operation.name"] == "execute_tool"
    assert tool_span.attributes["gen_ai.tool.name"] == "get_weather"
    assert tool_span.attributes["team"] == "a"
    assert agent_span.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert agent_span.attributes["gen_ai.agent.name"] == "planner"
    assert tool_span.parent is not None and tool_span.parent.span_id == agent_span.context.span_id
    assert tool_span.context.trace_id == agent_span.context.trace_id


def test_invalid_kind_and_capture_are_rejected() -> None:
    with pytest.raises(ValueError):
        llmlab.trace(kind="bogus")  # type: ignore[call-overload]
    with pytest.raises(ValueError):
        llmlab.trace(capture="all")  # type: ignore[call-overload]


def test_exception_sets_error_status_and_is_reraised(exporter: InMemorySpanExporter) -> None:
    @llmlab.trace(name="boom")
    def boom() -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError):
        boom()
    span = by_name(exporter.get_finished_spans(), "boom")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "KeyError"
    assert [e.name for e in span.events] == ["exception"]


def test_capture_policies(exporter: InMemorySpanExporter) -> None:
    @llmlab.trace(name="none", capture="none")
    def none(secret_value: str) -> str:
        raise ValueError("content " + secret_value)

    @llmlab.trace(name="meta", capture="metadata")
    def meta(text: str, count: int, api_key: str) -> dict[str, int]:
        return {"n": count}

    with pytest.raises(ValueError):
        none("x")
    meta("hello", 3, "k")
    spans = exporter.get_finished_spans()
    none_span, meta_span = by_name(spans, "none"), by_name(spans, "meta")
    assert "llmlab.input" not in none_span.attributes and "llmlab.output" not in none_span.attributes
    assert none_span.events == () and none_span.status.description is None
    assert none_span.attributes["error.type"] == "ValueError"
    assert json.loads(meta_span.attributes["llmlab.input"]) == {"text": "<str>", "count": "<int>", "api_key": "[REDACTED]"}
    assert json.loads(meta_span.attributes["llmlab.output"]) == "<dict>"
    assert "hello" not in str(meta_span.attributes)


def test_init_capture_policy_is_the_default() -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter as Memory

    memory = Memory()
    llmlab.init(exporter=memory, batch=False, capture="none")
    try:
        @llmlab.trace
        def f(x: int) -> int:
            return x

        f(1)
        assert "llmlab.input" not in memory.get_finished_spans()[0].attributes
    finally:
        llmlab.shutdown()


def test_redaction_and_size_cap(exporter: InMemorySpanExporter) -> None:
    @llmlab.trace(name="login")
    def login(user: str, password: str, options: dict[str, object], blob: str) -> dict[str, str]:
        return {"token": "abc", "authorization": "Bearer xyz", "ok": "yes", "key": "sk-abcdefghijklmnop"}

    login("ann", "hunter2", {"Authorization": "Bearer t", "nested": {"API_KEY": "k", "keep": 1}}, "x" * 50_000)
    span = by_name(exporter.get_finished_spans(), "login")
    text = span.attributes["llmlab.input"]
    assert "hunter2" not in text and "Bearer t" not in text
    assert '"keep": 1' in text
    assert len(text) < 17_000 and "truncated" in text
    output = json.loads(span.attributes["llmlab.output"])
    assert output == {"token": "[REDACTED]", "authorization": "[REDACTED]", "ok": "yes", "key": "[REDACTED]"}


async def test_async_function(exporter: InMemorySpanExporter) -> None:
    @llmlab.trace(name="outer")
    async def outer() -> int:
        return await inner(2)

    @llmlab.trace(name="inner", kind="retriever")
    async def inner(x: int) -> int:
        await asyncio.sleep(0)
        return x * 2

    assert await outer() == 4
    spans = exporter.get_finished_spans()
    assert by_name(spans, "inner").parent.span_id == by_name(spans, "outer").context.span_id
    assert by_name(spans, "inner").attributes["llmlab.span.kind"] == "retriever"


async def test_async_exception(exporter: InMemorySpanExporter) -> None:
    @llmlab.trace(name="afail")
    async def fail() -> None:
        raise RuntimeError("nope")

    with pytest.raises(RuntimeError):
        await fail()
    assert by_name(exporter.get_finished_spans(), "afail").status.status_code is StatusCode.ERROR


def test_generator_span_covers_iteration(exporter: InMemorySpanExporter) -> None:
    @llmlab.trace(name="child")
    def child(i: int) -> int:
        return i

    @llmlab.trace(name="gen", kind="chain")
    def gen(n: int) -> Iterator[int]:
        for i in range(n):
            yield child(i)

    iterator = gen(3)
    assert exporter.get_finished_spans() == ()
    first = next(iterator)
    assert first == 0
    assert [s.name for s in exporter.get_finished_spans()] == ["child"]  # gen still open
    assert list(iterator) == [1, 2]
    spans = exporter.get_finished_spans()
    gen_span = by_name(spans, "gen")
    assert gen_span.end_time >= max(s.end_time for s in spans if s.name == "child")
    assert all(s.parent.span_id == gen_span.context.span_id for s in spans if s.name == "child")
    assert json.loads(gen_span.attributes["llmlab.output"]) == [0, 1, 2]
    assert gen_span.attributes["llmlab.generator.items"] == 3


def test_generator_consumer_code_is_not_inside_the_span(exporter: InMemorySpanExporter) -> None:
    @llmlab.trace(name="producer")
    def producer() -> Iterator[int]:
        yield 1
        yield 2

    @llmlab.trace(name="consumer_step")
    def step() -> None:
        pass

    for _ in producer():
        step()
    spans = exporter.get_finished_spans()
    assert by_name(spans, "consumer_step").parent is None


def test_generator_error_and_early_close(exporter: InMemorySpanExporter) -> None:
    @llmlab.trace(name="bad")
    def bad() -> Iterator[int]:
        yield 1
        raise ValueError("mid-stream")

    @llmlab.trace(name="endless")
    def endless() -> Iterator[int]:
        i = 0
        while True:
            yield i
            i += 1

    with pytest.raises(ValueError):
        list(bad())
    it = endless()
    next(it)
    next(it)
    it.close()
    spans = exporter.get_finished_spans()
    assert by_name(spans, "bad").status.status_code is StatusCode.ERROR
    endless_span = by_name(spans, "endless")
    assert endless_span.status.status_code is StatusCode.UNSET
    assert json.loads(endless_span.attributes["llmlab.output"]) == [0, 1]


def test_generator_send_and_return_value(exporter: InMemorySpanExporter) -> None:
    @llmlab.trace(name="echo")
    def echo() -> Iterator[str]:
        received = yield "ready"
        yield f"got {received}"

    it = echo()
    assert next(it) == "ready"
    assert it.send("x") == "got x"
    with pytest.raises(StopIteration):
        next(it)
    assert by_name(exporter.get_finished_spans(), "echo").end_time is not None


async def test_async_generator(exporter: InMemorySpanExporter) -> None:
    @llmlab.trace(name="achild")
    async def achild(i: int) -> int:
        return i

    @llmlab.trace(name="agen")
    async def agen(n: int) -> AsyncIterator[int]:
        for i in range(n):
            await asyncio.sleep(0)
            yield await achild(i)

    @llmlab.trace(name="abad")
    async def abad() -> AsyncIterator[int]:
        yield 1
        raise ValueError("x")

    assert [x async for x in agen(3)] == [0, 1, 2]
    with pytest.raises(ValueError):
        async for _ in abad():
            pass
    closing = agen(10)
    assert await closing.__anext__() == 0
    await closing.aclose()
    spans = exporter.get_finished_spans()
    full = [s for s in spans if s.name == "agen"][0]
    assert all(s.parent.span_id in {x.context.span_id for x in spans if x.name == "agen"}
               for s in spans if s.name == "achild")
    assert json.loads(full.attributes["llmlab.output"]) == [0, 1, 2]
    assert by_name(spans, "abad").status.status_code is StatusCode.ERROR
    assert len([s for s in spans if s.name == "agen"]) == 2


def test_methods_skip_self(exporter: InMemorySpanExporter) -> None:
    class Service:
        @llmlab.trace(kind="chain")
        def run(self, q: str) -> str:
            return q.upper()

    assert Service().run("a") == "A"
    span = exporter.get_finished_spans()[0]
    assert span.name.endswith("Service.run")
    assert json.loads(span.attributes["llmlab.input"]) == {"q": "a"}


def test_session_and_user_context(exporter: InMemorySpanExporter) -> None:
    @llmlab.trace(name="turn")
    def turn() -> None:
        pass

    with llmlab.set_session("sess-1"), llmlab.set_user("user-9"):
        assert llmlab.current_session() == "sess-1"
        turn()
    turn()
    spans = [s for s in exporter.get_finished_spans() if s.name == "turn"]
    assert spans[0].attributes["llmlab.session_id"] == "sess-1"
    assert spans[0].attributes["llmlab.user_id"] == "user-9"
    assert "llmlab.session_id" not in spans[1].attributes
    assert llmlab.current_session() is None
