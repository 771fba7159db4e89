"""Trace ingest end to end: the real OpenTelemetry exporters (OTLP/HTTP protobuf+gzip and
OTLP/gRPC over TLS), Pydantic AI (TestModel), LangGraph via OpenInference, the `openai`
client through the proxy with a `traceparent`, a failing tool explained, the export
errors, content capture, and tenant isolation. Traces are read back with
`llmlab-admin trace list|show|explain --json` (and once with the SDK's gRPC client).

Each test captures its own spans in memory beside the real export, so it knows the trace
id and the attributes it sent; the server's answer is checked against those and against
costs worked out here from catalog.json (pricing.py)."""

from __future__ import annotations

import gzip
import json
import sys
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import grpc
import pytest
from openai import OpenAI
from opentelemetry import trace as otel_trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GRPCSpanExporter
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HTTPSpanExporter
from opentelemetry.propagate import inject
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc import TraceServiceStub
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import fake_openai
import llmlab
import pricing
from conftest import MAX_TRACE_BYTES, Stack, Tracing

MODEL = "gpt-4o-mini"
# The hand-made LLM span's usage, GenAI style: input includes the cache reads, output the
# reasoning tokens. In OpenAI's usage shape for pricing.openai_chat_cost.
USAGE = {"input": 1000, "cache_read": 200, "output": 300, "reasoning": 50}
HAND_COST = pricing.openai_chat_cost(MODEL, {
    "prompt_tokens": USAGE["input"], "completion_tokens": USAGE["output"],
    "prompt_tokens_details": {"cached_tokens": USAGE["cache_read"]},
    "completion_tokens_details": {"reasoning_tokens": USAGE["reasoning"]}})
PROXY_COST = pricing.openai_chat_cost(MODEL, fake_openai.USAGE)


# MARK: helpers

def hex_id(value: int, digits: int) -> str:
    return format(value, f"0{digits}x")


def trace_id_of(spans: Sequence[ReadableSpan]) -> str:
    ids = {s.context.trace_id for s in spans}
    assert len(ids) == 1, f"expected one trace, got {len(ids)}: {[s.name for s in spans]}"
    return hex_id(ids.pop(), 32)


def show(stack: Stack, trace_id: str, *, spans: int = 1, timeout: float = 10) -> dict[str, Any]:
    """`trace show <id> --json`, polled until it has at least `spans` spans (proxy spans are
    queued after the response; exported spans are there when the export is acknowledged)."""
    deadline = time.monotonic() + timeout
    while True:
        out = stack.admin_run("trace", "show", trace_id, "--json")
        if out.returncode == 0:
            trace = json.loads(out.stdout)
            if len(trace.get("spans", [])) >= spans or time.monotonic() > deadline:
                return dict(trace)
        elif time.monotonic() > deadline:
            pytest.fail(f"trace show {trace_id}: exit {out.returncode}: {out.stdout}{out.stderr}")
        time.sleep(0.2)


def by_name(trace: dict[str, Any], name: str) -> dict[str, Any]:
    found = [s for s in trace["spans"] if s["name"] == name]
    assert len(found) == 1, f"{name!r} in {[s['name'] for s in trace['spans']]}"
    return dict(found[0])


def category(span: dict[str, Any]) -> str:
    return str(span.get("category", "SPAN_CATEGORY_UNSPECIFIED")).removeprefix("SPAN_CATEGORY_").lower()


def tokens(obj: dict[str, Any]) -> dict[str, int]:
    """A TokenCounts message from proto3 JSON (int64 as strings, zeros left out)."""
    t = obj.get("tokens", {})
    return {k: int(t.get(k, 0)) for k in ("uncachedInputTokens", "cacheReadTokens", "cacheWrite5mTokens",
                                          "cacheWrite1hTokens", "outputTokens", "reasoningTokens")}


def memory_provider(exporter: SpanExporter | None = None, service: str = "e2e-otel") -> tuple[TracerProvider, InMemorySpanExporter]:
    """A plain OpenTelemetry SDK provider (no llmlab) recording in memory and, when given,
    also exporting each span as it ends."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, memory


def genai_trace(content: str | None = None) -> tuple[ReadableSpan, ...]:
    """agent → (llm with usage on a catalog model, tool), GenAI conventions, in memory."""
    provider, memory = memory_provider()
    tracer = provider.get_tracer("e2e")
    with tracer.start_as_current_span("invoke_agent planner", attributes={
            "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner"}):
        llm_attributes: dict[str, Any] = {
            "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
            "gen_ai.request.model": MODEL, "gen_ai.response.model": MODEL,
            "gen_ai.usage.input_tokens": USAGE["input"], "gen_ai.usage.output_tokens": USAGE["output"],
            "gen_ai.usage.cache_read.input_tokens": USAGE["cache_read"],
            "gen_ai.usage.reasoning.output_tokens": USAGE["reasoning"],
            "gen_ai.response.finish_reasons": ("tool_calls",)}
        if content is not None:
            llm_attributes["gen_ai.input.messages"] = json.dumps(
                [{"role": "user", "parts": [{"type": "text", "content": content}]}])
        with tracer.start_as_current_span(f"chat {MODEL}", kind=otel_trace.SpanKind.CLIENT, attributes=llm_attributes):
            pass
        with tracer.start_as_current_span("execute_tool lookup", attributes={
                "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup"}):
            pass
    provider.shutdown()
    spans = memory.get_finished_spans()
    assert len(spans) == 3
    return spans


def http_exporter(stack: Stack, key: str) -> HTTPSpanExporter:
    return HTTPSpanExporter(endpoint=f"{stack.root_url}/v1/traces", headers={"authorization": f"Bearer {key}"},
                            compression=Compression.Gzip, timeout=10)


def grpc_credentials(stack: Stack) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(root_certificates=(stack.home / "tls" / "ca.pem").read_bytes())


def grpc_exporter(stack: Stack, key: str, compression: grpc.Compression | None = None) -> GRPCSpanExporter:
    return GRPCSpanExporter(endpoint=f"127.0.0.1:{stack.grpc_port}", insecure=False, credentials=grpc_credentials(stack),
                            headers=(("authorization", f"Bearer {key}"),), timeout=10, compression=compression)


def check_genai_trace(stack: Stack, trace_id: str) -> dict[str, Any]:
    trace = show(stack, trace_id, spans=3)
    summary = trace["summary"]
    assert summary["traceId"] == trace_id
    assert summary["spanCount"] == 3 and summary.get("llmCallCount") == 1, summary
    assert summary.get("errorCount", 0) == 0 and summary["status"] == "TRACE_STATUS_OK"
    assert summary["rootName"] == "invoke_agent planner"
    assert Decimal(summary["totalCostUsd"]) == HAND_COST, summary
    assert summary.get("unpricedSpanCount", 0) == 0
    expected_tokens = {"uncachedInputTokens": USAGE["input"] - USAGE["cache_read"],
                       "cacheReadTokens": USAGE["cache_read"], "cacheWrite5mTokens": 0, "cacheWrite1hTokens": 0,
                       "outputTokens": USAGE["output"] - USAGE["reasoning"], "reasoningTokens": USAGE["reasoning"]}
    assert tokens(summary) == expected_tokens
    assert summary.get("models") == [MODEL]
    assert summary.get("serviceName") == "e2e-otel"

    agent, llm, tool = (by_name(trace, n) for n in ("invoke_agent planner", f"chat {MODEL}", "execute_tool lookup"))
    assert [category(s) for s in (agent, llm, tool)] == ["agent", "llm", "tool"]
    assert [s["name"] for s in trace["spans"]][0] == "invoke_agent planner"  # tree order: root first
    assert not agent.get("parentSpanId") and agent.get("depth", 0) == 0
    assert llm["parentSpanId"] == agent["spanId"] and tool["parentSpanId"] == agent["spanId"]
    assert llm.get("depth") == 1 and tool.get("depth") == 1
    assert llm["provider"] == "openai" and llm["requestModel"] == MODEL and llm["responseModel"] == MODEL
    assert tokens(llm) == expected_tokens
    assert Decimal(llm["costUsd"]) == HAND_COST
    assert llm.get("finishReason") == "tool_calls"
    assert tool.get("toolName") == "lookup"
    # Only model calls carry tokens and cost.
    for span in (agent, tool):
        assert not span.get("costUsd") and tokens(span) == dict.fromkeys(expected_tokens, 0)
    return trace


def post(stack: Stack, body: bytes, content_type: str, key: str, encoding: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(f"{stack.root_url}/v1/traces", data=body, method="POST",
                                     headers={"content-type": content_type, "authorization": f"Bearer {key}",
                                              **({"content-encoding": encoding} if encoding else {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()


@pytest.fixture
def sdk() -> Iterator[InMemorySpanExporter]:
    """Shuts down what llmlab.init set up in a test (and Pydantic AI's process-wide
    instrumentation); the test adds this in-memory exporter to the provider from init."""
    memory = InMemorySpanExporter()
    yield memory
    llmlab.shutdown()
    if "pydantic_ai" in sys.modules:
        from pydantic_ai import Agent

        Agent.instrument_all(False)


def sdk_init(stack: Stack, tracing: Tracing, memory: InMemorySpanExporter, *, grpc: bool = False,
             **kwargs: Any) -> TracerProvider:
    """llmlab.init exporting to the server: OTLP/HTTP (protobuf, gzip) to the HTTP listener,
    or with grpc=True OTLP/gRPC over TLS (the dev CA) to the gRPC listener."""
    if grpc:
        kwargs.update(protocol="grpc", ca_file=str(stack.home / "tls" / "ca.pem"))
    endpoint = f"https://127.0.0.1:{stack.grpc_port}" if grpc else stack.root_url
    provider = llmlab.init(api_key=tracing.ingest_key, endpoint=endpoint, project=tracing.project_id,
                           set_global=False, **kwargs)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    return provider


def test_hand_computed_cost() -> None:
    # 800 uncached × 0.15 + 200 cached × 0.075 + 250 output × 0.60 + 50 reasoning × 0.60, per million.
    assert HAND_COST == Decimal("0.000315")


# MARK: 1. the OpenTelemetry exporters

def test_otlp_http_exporter_protobuf_gzip(stack: Stack, tracing: Tracing) -> None:
    spans = genai_trace()
    exporter = http_exporter(stack, tracing.ingest_key)
    try:
        assert exporter.export(spans) == SpanExportResult.SUCCESS
    finally:
        exporter.shutdown()
    trace_id = trace_id_of(spans)
    check_genai_trace(stack, trace_id)
    listed = [t for t in stack.admin_json("trace", "list", "--project", tracing.project_id) if t["traceId"] == trace_id]
    assert len(listed) == 1
    assert listed[0]["spanCount"] == 3 and Decimal(listed[0]["totalCostUsd"]) == HAND_COST
    assert listed[0]["projectId"] == tracing.project_id


def test_otlp_grpc_exporter_tls(stack: Stack, tracing: Tracing) -> None:
    from llmlab.client import LLMLabClient

    spans = genai_trace()
    exporter = grpc_exporter(stack, tracing.ingest_key)
    try:
        assert exporter.export(spans) == SpanExportResult.SUCCESS
    finally:
        exporter.shutdown()
    trace_id = trace_id_of(spans)
    check_genai_trace(stack, trace_id)
    # The same through TraceQueryService with a project control key.
    with LLMLabClient(f"127.0.0.1:{stack.grpc_port}", token=tracing.control_key,
                      ca_file=str(stack.home / "tls" / "ca.pem")) as client:
        page = client.list_traces(project_id=tracing.project_id, page_size=100)
        assert trace_id in [t.trace_id for t in page.traces]
        got = client.get_trace(trace_id)
        assert got.summary.span_count == 3 and Decimal(got.summary.total_cost_usd) == HAND_COST
        assert [s.name for s in got.spans][0] == "invoke_agent planner"


def test_otlp_grpc_exporter_gzip(stack: Stack, tracing: Tracing) -> None:
    """OTLP/gRPC with gzip message compression (OTEL_EXPORTER_OTLP_COMPRESSION=gzip, and what
    `llmlab.init(protocol="grpc")` always sends)."""
    spans = genai_trace()
    exporter = grpc_exporter(stack, tracing.ingest_key, compression=grpc.Compression.Gzip)
    try:
        result = exporter.export(spans)
    finally:
        exporter.shutdown()
    if result != SpanExportResult.SUCCESS:  # say why (the exporter only logs it)
        request = ExportTraceServiceRequest(resource_spans=encode_spans(spans).resource_spans)
        with grpc.secure_channel(f"127.0.0.1:{stack.grpc_port}", grpc_credentials(stack),
                                 compression=grpc.Compression.Gzip) as channel:
            try:
                TraceServiceStub(channel).Export(request, metadata=(("authorization", f"Bearer {tracing.ingest_key}"),),
                                                 timeout=10)
                why = "a direct gzip Export succeeded"
            except grpc.RpcError as error:
                why = f"{error.code()}: {error.details()}"
        pytest.fail(f"the gzip-compressed OTLP/gRPC export failed: {why}")
    check_genai_trace(stack, trace_id_of(spans))


def test_sdk_init_grpc_protocol(stack: Stack, tracing: Tracing, sdk: InMemorySpanExporter) -> None:
    """`llmlab.init(protocol="grpc", endpoint="https://host:port")`, as the SDK README says."""
    sdk_init(stack, tracing, sdk, grpc=True)

    @llmlab.trace(name="grpc_agent", kind="agent")
    def grpc_agent() -> str:
        return "done"

    grpc_agent()
    llmlab.flush()
    trace_id = trace_id_of(sdk.get_finished_spans())
    out = stack.admin_run("trace", "show", trace_id, "--json")
    assert out.returncode == 0, f"the span exported with llmlab.init(protocol='grpc') is not stored: {out.stderr}"
    assert by_name(json.loads(out.stdout), "grpc_agent")


# MARK: 2. Pydantic AI (recipes/pydantic_ai.md)

def test_pydantic_ai_agent_with_test_model(stack: Stack, tracing: Tracing, sdk: InMemorySpanExporter) -> None:
    from pydantic_ai import Agent, InstrumentationSettings
    from pydantic_ai.models.test import TestModel

    provider = sdk_init(stack, tracing, sdk, service_name="weather-bot")
    # As the recipe does (pydantic-ai 2.68's Agent() takes no per-agent `instrument=`).
    Agent.instrument_all(InstrumentationSettings(tracer_provider=provider, include_content=True))
    agent = Agent(TestModel(), name="weather_agent", instructions="Answer with the weather.")

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"sunny in {city}"

    with llmlab.set_session("session-42"), llmlab.set_user("user-7"):
        result = agent.run_sync("What is the weather in Paris?")
    assert "sunny in" in result.output
    assert llmlab.flush()
    spans = sdk.get_finished_spans()
    trace_id = trace_id_of(spans)
    sent = {s.name: s for s in spans}
    chats = [s for s in spans if s.attributes and s.attributes.get("gen_ai.operation.name") == "chat"]
    assert len(chats) == 2

    trace = show(stack, trace_id, spans=len(spans))
    summary = trace["summary"]
    assert summary["spanCount"] == len(spans) and summary["rootName"] == "invoke_agent weather_agent"
    assert summary.get("sessionId") == "session-42" and summary.get("userId") == "user-7"
    assert summary.get("serviceName") == "weather-bot"
    agent_span = by_name(trace, "invoke_agent weather_agent")
    tool = by_name(trace, "execute_tool get_weather")
    llms = [s for s in trace["spans"] if category(s) == "llm"]
    assert category(agent_span) == "agent" and category(tool) == "tool" and tool.get("toolName") == "get_weather"
    assert len(llms) == 2 and all(s["name"] == "chat test" for s in llms)
    assert tool["parentSpanId"] == agent_span["spanId"]
    assert all(s["parentSpanId"] == agent_span["spanId"] for s in llms)
    # Tokens as TestModel reported them on each chat span (and in total in the run's usage).
    by_id = {hex_id(s.context.span_id, 16): s for s in chats}
    for llm in llms:
        attributes = by_id[llm["spanId"]].attributes or {}
        assert tokens(llm)["uncachedInputTokens"] == attributes["gen_ai.usage.input_tokens"]
        assert tokens(llm)["outputTokens"] == attributes["gen_ai.usage.output_tokens"]
        assert llm["requestModel"] == "test"
        # TestModel's provider is "test" (model name "test"): stored unpriced, with the reason.
        assert not llm.get("costUsd")
        assert llm.get("unpricedReason", "").startswith("unknown_provider:"), llm
    usage = result.usage
    assert tokens(summary)["uncachedInputTokens"] == usage.input_tokens
    assert tokens(summary)["outputTokens"] == usage.output_tokens
    assert not summary.get("totalCostUsd") and summary.get("unpricedSpanCount") == 2
    assert "execute_tool get_weather" in sent


def test_pydantic_ai_priced_model_name(stack: Stack, tracing: Tracing, sdk: InMemorySpanExporter) -> None:
    """TestModel named like a catalog model and reporting provider "openai": priced from the
    catalog by Pydantic AI's own usage attributes."""
    from pydantic_ai import Agent, InstrumentationSettings
    from pydantic_ai.models.test import TestModel

    class OpenAITestModel(TestModel):
        @property
        def system(self) -> str:
            return "openai"

    provider = sdk_init(stack, tracing, sdk)
    Agent.instrument_all(InstrumentationSettings(tracer_provider=provider))
    agent = Agent(OpenAITestModel(model_name=MODEL, call_tools=[]), name="priced_agent")
    result = agent.run_sync("Hello")
    assert llmlab.flush()
    spans = sdk.get_finished_spans()
    trace = show(stack, trace_id_of(spans), spans=len(spans))
    (llm,) = [s for s in trace["spans"] if category(s) == "llm"]
    usage = result.usage
    assert llm["provider"] == "openai" and llm["requestModel"] == MODEL
    expected = pricing.openai_chat_cost(MODEL, {"prompt_tokens": usage.input_tokens,
                                                "completion_tokens": usage.output_tokens})
    assert Decimal(llm["costUsd"]) == expected
    assert Decimal(trace["summary"]["totalCostUsd"]) == expected


# MARK: 3. LangGraph via OpenInference (recipes/langgraph.md)

def test_langgraph_fake_chat_model(stack: Stack, tracing: Tracing, sdk: InMemorySpanExporter) -> None:
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.tools import tool
    from langgraph.prebuilt import create_react_agent
    from openinference.instrumentation.langchain import LangChainInstrumentor

    provider = sdk_init(stack, tracing, sdk, service_name="weather-graph")
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        @tool
        def get_weather(city: str) -> str:
            """The weather in a city."""
            return f"sunny in {city}"

        class ScriptedChatModel(GenericFakeChatModel):
            def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
                return self

        model = ScriptedChatModel(messages=iter([
            AIMessage(content="", tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}],
                      usage_metadata={"input_tokens": 20, "output_tokens": 5, "total_tokens": 25}),
            AIMessage(content="It is sunny in Paris.",
                      usage_metadata={"input_tokens": 30, "output_tokens": 7, "total_tokens": 37}),
        ]))
        with warnings.catch_warnings():  # the recipe's create_react_agent is deprecated in LangGraph 1.x
            warnings.simplefilter("ignore")
            graph = create_react_agent(model, [get_weather], name="weather_graph")
        with llmlab.set_session("session-43"):
            state = graph.invoke({"messages": [("user", "What is the weather in Paris?")]})
        assert state["messages"][-1].content == "It is sunny in Paris."
        assert llmlab.flush()
    finally:
        instrumentor.uninstrument()
    spans = sdk.get_finished_spans()
    trace_id = trace_id_of(spans)
    kinds = {hex_id(s.context.span_id, 16): (s.attributes or {}).get("openinference.span.kind") for s in spans}

    trace = show(stack, trace_id, spans=len(spans))
    assert trace["summary"]["spanCount"] == len(spans)
    assert trace["summary"]["rootName"] == "weather_graph"
    assert trace["summary"].get("sessionId") == "session-43"
    mapping = {"AGENT": "agent", "CHAIN": "chain", "TOOL": "tool", "LLM": "llm"}
    for span in trace["spans"]:
        kind = kinds[span["spanId"]]
        if kind in mapping:
            assert category(span) == mapping[kind], (span["name"], kind, category(span))
    cats = [category(s) for s in trace["spans"]]
    assert "agent" in cats and "chain" in cats and cats.count("tool") == 1 and cats.count("llm") == 2
    tool_span = next(s for s in trace["spans"] if category(s) == "tool")
    assert tool_span.get("toolName") == "get_weather"
    llms = [s for s in trace["spans"] if category(s) == "llm"]
    assert [(tokens(s)["uncachedInputTokens"], tokens(s)["outputTokens"]) for s in llms] == [(20, 5), (30, 7)]
    # The fake chat model names no model: unpriced, and the span says why.
    assert all(not s.get("costUsd") and s.get("unpricedReason", "").startswith("no_model:") for s in llms), llms
    assert trace["summary"].get("unpricedSpanCount") == 2
    assert tokens(trace["summary"])["uncachedInputTokens"] == 50 and tokens(trace["summary"])["outputTokens"] == 12


# MARK: 4. the openai client through the proxy, joining the client's trace

def test_openai_through_proxy_joins_client_trace(stack: Stack, tracing: Tracing) -> None:
    exporter = http_exporter(stack, tracing.ingest_key)
    provider, memory = memory_provider(exporter, service="proxy-client")
    tracer = provider.get_tracer("e2e")
    client = OpenAI(api_key=tracing.proxy_key, base_url=stack.base_url, max_retries=0, timeout=30)
    try:
        with tracer.start_as_current_span("answer_question", attributes={
                "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "answer_question"}):
            carrier: dict[str, str] = {}
            inject(carrier)
            assert "traceparent" in carrier
            raw = client.chat.completions.with_raw_response.create(
                model=MODEL, messages=[{"role": "user", "content": "Say hello"}],
                extra_headers={"traceparent": carrier["traceparent"]})
    finally:
        provider.shutdown()
    assert raw.parse().choices[0].message.content == fake_openai.TEXT
    request_id = raw.headers["x-llmlab-request-id"]
    (client_span,) = memory.get_finished_spans()
    trace_id = trace_id_of([client_span])
    client_span_id = hex_id(client_span.context.span_id, 16)

    trace = show(stack, trace_id, spans=2)
    assert trace["summary"]["spanCount"] == 2, [s["name"] for s in trace["spans"]]
    root = by_name(trace, "answer_question")
    proxied = by_name(trace, f"chat {MODEL}")
    assert root["spanId"] == client_span_id and category(root) == "agent"
    assert proxied["parentSpanId"] == client_span_id
    assert category(proxied) == "llm" and proxied["provider"] == "openai" and proxied["requestModel"] == MODEL
    assert proxied.get("serviceName") == "llmlab-proxy"
    assert json.loads(proxied["attributesJson"])["llmlab.request_id"] == request_id

    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + 15
    while not events and time.monotonic() < deadline:  # the usage writer flushes in batches
        events = [e for e in stack.admin_json("usage", "list", "--project", tracing.project_id)
                  if e.get("requestId") == request_id]
        if not events:
            time.sleep(0.2)
    assert len(events) == 1
    event = events[0]
    assert Decimal(event["costUsd"]) == Decimal(proxied["costUsd"]) == PROXY_COST
    assert Decimal(raw.headers["x-llmlab-cost-usd"]) == PROXY_COST
    assert tokens(proxied) == {
        "uncachedInputTokens": int(event.get("inputTokens", 0)), "cacheReadTokens": int(event.get("cachedInputTokens", 0)),
        "cacheWrite5mTokens": int(event.get("cacheWrite5mTokens", 0)),
        "cacheWrite1hTokens": int(event.get("cacheWrite1hTokens", 0)),
        "outputTokens": int(event.get("outputTokens", 0)), "reasoningTokens": int(event.get("reasoningTokens", 0))}
    usage = fake_openai.USAGE
    assert tokens(proxied)["cacheReadTokens"] == usage["prompt_tokens_details"]["cached_tokens"]
    assert tokens(proxied)["reasoningTokens"] == usage["completion_tokens_details"]["reasoning_tokens"]
    assert (tokens(proxied)["uncachedInputTokens"] + tokens(proxied)["cacheReadTokens"]) == usage["prompt_tokens"]
    assert tokens(proxied)["outputTokens"] + tokens(proxied)["reasoningTokens"] == usage["completion_tokens"]
    assert Decimal(trace["summary"]["totalCostUsd"]) == PROXY_COST


# MARK: 5. a failing tool, explained

def test_failing_tool_is_explained(stack: Stack, tracing: Tracing, sdk: InMemorySpanExporter) -> None:
    sdk_init(stack, tracing, sdk)

    @llmlab.trace(name="fetch_invoice", kind="tool")
    def fetch_invoice(invoice_id: int) -> str:
        raise LookupError(f"invoice {invoice_id} not found in ledger")

    @llmlab.trace(name="billing_agent", kind="agent")
    def billing_agent(question: str) -> str:
        return fetch_invoice(42)

    with pytest.raises(LookupError):
        billing_agent("Where is invoice 42?")
    assert llmlab.flush()
    trace_id = trace_id_of(sdk.get_finished_spans())

    trace = show(stack, trace_id, spans=2)
    assert trace["summary"]["status"] == "TRACE_STATUS_ERROR" and trace["summary"]["errorCount"] >= 1
    tool = by_name(trace, "fetch_invoice")
    assert category(tool) == "tool" and tool.get("isError") is True and tool.get("toolName") == "fetch_invoice"
    assert category(by_name(trace, "billing_agent")) == "agent"

    explained = stack.admin_json("trace", "explain", trace_id)
    assert explained["traceId"] == trace_id and explained.get("hasError") is True
    cause = explained["rootCause"]
    assert cause["name"] == "fetch_invoice" and cause.get("toolName") == "fetch_invoice", explained
    assert category(cause) == "tool" and cause.get("isError") is True
    assert "invoice 42 not found in ledger" in cause.get("errorMessage", ""), explained
    assert "fetch_invoice" in explained["summary"] and "invoice 42 not found in ledger" in explained["summary"], explained
    assert [a["name"] for a in explained.get("ancestors", [])] == ["billing_agent"]
    text = stack.admin("trace", "explain", trace_id)
    assert "fetch_invoice" in text and "invoice 42 not found in ledger" in text, text


# MARK: 6. export errors, content capture

def test_proxy_only_key_cannot_export_over_http(stack: Stack, tracing: Tracing) -> None:
    spans = genai_trace()
    exporter = http_exporter(stack, tracing.proxy_key)
    try:
        assert exporter.export(spans) == SpanExportResult.FAILURE
    finally:
        exporter.shutdown()
    # The exporter only logs the status: the same body (protobuf, gzip) by hand.
    body = gzip.compress(encode_spans(spans).SerializeToString())
    status, answer = post(stack, body, "application/x-protobuf", tracing.proxy_key, encoding="gzip")
    assert status == 403 and b"ingest" in answer, answer
    assert stack.admin_run("trace", "show", trace_id_of(spans)).returncode != 0


def test_proxy_only_key_cannot_export_over_grpc(stack: Stack, tracing: Tracing) -> None:
    spans = genai_trace()
    exporter = grpc_exporter(stack, tracing.proxy_key)
    try:
        assert exporter.export(spans) == SpanExportResult.FAILURE
    finally:
        exporter.shutdown()
    request = ExportTraceServiceRequest(resource_spans=encode_spans(spans).resource_spans)
    with grpc.secure_channel(f"127.0.0.1:{stack.grpc_port}", grpc_credentials(stack)) as channel:
        with pytest.raises(grpc.RpcError) as raised:
            TraceServiceStub(channel).Export(request, metadata=(("authorization", f"Bearer {tracing.proxy_key}"),),
                                             timeout=10)
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED, raised.value
    assert "ingest" in (raised.value.details() or "")
    assert stack.admin_run("trace", "show", trace_id_of(spans)).returncode != 0


def test_malformed_bodies_are_400(stack: Stack, tracing: Tracing) -> None:
    status, _ = post(stack, b"\xff\xff\xff\xff\x0f", "application/x-protobuf", tracing.ingest_key)
    assert status == 400
    status, _ = post(stack, b'{"resourceSpans": [', "application/json", tracing.ingest_key)
    assert status == 400
    status, _ = post(stack, b"not gzip at all", "application/x-protobuf", tracing.ingest_key, encoding="gzip")
    assert status == 400


def test_wrong_content_type_is_415(stack: Stack, tracing: Tracing) -> None:
    status, _ = post(stack, b"{}", "text/plain", tracing.ingest_key)
    assert status == 415


def test_oversize_export_is_413(stack: Stack, tracing: Tracing) -> None:
    status, body = post(stack, b"\x00" * (MAX_TRACE_BYTES + 1), "application/x-protobuf", tracing.ingest_key)
    assert status == 413, body
    # Small on the wire but over the limit once decompressed.
    bomb = gzip.compress(b"\x0a" * (MAX_TRACE_BYTES + 1024))
    assert len(bomb) < MAX_TRACE_BYTES
    status, _ = post(stack, bomb, "application/x-protobuf", tracing.ingest_key, encoding="gzip")
    assert status == 413
    # Exactly at the limit is taken (an empty-message body of zeros is not valid protobuf,
    # so an empty JSON object padded with spaces).
    status, body = post(stack, b"{}" + b" " * (MAX_TRACE_BYTES - 2), "application/json", tracing.ingest_key)
    assert status == 200, body


PROMPT = "my secret travel plans to Lisbon"


def _export_with_content(stack: Stack, tracing: Tracing) -> dict[str, Any]:
    spans = genai_trace(content=PROMPT)
    exporter = http_exporter(stack, tracing.capture_ingest_key)
    try:
        assert exporter.export(spans) == SpanExportResult.SUCCESS
    finally:
        exporter.shutdown()
    return show(stack, trace_id_of(spans), spans=3)


def test_content_capture_off_by_default_then_on(stack: Stack, tracing: Tracing) -> None:
    trace = _export_with_content(stack, tracing)
    llm = by_name(trace, f"chat {MODEL}")
    assert not llm.get("contentJson"), llm
    assert PROMPT not in json.dumps(trace)
    assert "gen_ai.input.messages" not in json.loads(llm["attributesJson"])
    assert Decimal(llm["costUsd"]) == HAND_COST  # metadata is still there

    stack.admin("project", "update", tracing.capture_project_id, "--capture-content", "on")
    trace = _export_with_content(stack, tracing)
    llm = by_name(trace, f"chat {MODEL}")
    assert PROMPT in llm.get("contentJson", ""), llm


# MARK: 7. tenant isolation

def test_other_tenant_cannot_see_the_trace(stack: Stack, tracing: Tracing) -> None:
    from llmlab.client import LLMLabClient

    spans = genai_trace()
    exporter = http_exporter(stack, tracing.ingest_key)
    try:
        assert exporter.export(spans) == SpanExportResult.SUCCESS
    finally:
        exporter.shutdown()
    trace_id = trace_id_of(spans)
    assert show(stack, trace_id, spans=3)["summary"]["spanCount"] == 3  # the owner sees it

    for credential in (["--token", tracing.other_control_key], []):  # the key, and the session
        env = stack.env if credential else tracing.other_env
        out = stack.admin_run("trace", "show", trace_id, "--json", *credential, env=env)
        assert out.returncode != 0, out.stdout
        assert "not found" in (out.stdout + out.stderr).lower(), out.stdout + out.stderr
        listed = stack.admin_json("trace", "list", *credential, env=env)
        assert trace_id not in [t["traceId"] for t in listed]
        out = stack.admin_run("trace", "explain", trace_id, *credential, env=env)
        assert out.returncode != 0 and "not found" in (out.stdout + out.stderr).lower()
    with LLMLabClient(f"127.0.0.1:{stack.grpc_port}", token=tracing.other_control_key,
                      ca_file=str(stack.home / "tls" / "ca.pem")) as client:
        with pytest.raises(grpc.RpcError) as raised:
            client.get_trace(trace_id)
        assert raised.value.code() == grpc.StatusCode.NOT_FOUND
