"""llmlab.init wiring: an in-process fake OTLP/HTTP collector decodes the protobuf body
(opentelemetry-proto) and checks endpoint path, authorization header, gzip and resource."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest, ExportTraceServiceResponse,
)

import llmlab
from llmlab._setup import traces_url


class Collector:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], ExportTraceServiceRequest]] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                if headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                collector.requests.append((self.path, headers, request))
                data = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def collector() -> Iterator[Collector]:
    c = Collector()
    yield c
    c.server.shutdown()
    c.server.server_close()


def test_exports_to_llmlab_over_otlp_http(collector: Collector) -> None:
    llmlab.init(api_key="llk_test_0123456789", endpoint=collector.url + "/", project="proj-a",
                service_name="svc", resource_attributes={"deployment.environment": "test"})

    @llmlab.trace(name="work", kind="tool")
    def work(x: int) -> int:
        return x + 1

    with llmlab.set_user("u-1"):
        work(1)
    assert llmlab.flush(5_000)
    llmlab.shutdown()

    assert collector.requests, "nothing was exported"
    path, headers, request = collector.requests[0]
    assert path == "/v1/traces"
    assert headers["authorization"] == "Bearer llk_test_0123456789"
    assert headers["content-type"] == "application/x-protobuf"
    assert headers.get("content-encoding") == "gzip"
    [resource_spans] = request.resource_spans
    resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert resource["service.name"] == "svc"
    assert resource["llmlab.project"] == "proj-a"
    assert resource["deployment.environment"] == "test"
    spans = [s for scope in resource_spans.scope_spans for s in scope.spans]
    assert [s.name for s in spans] == ["work"]
    attributes = {a.key: a.value for a in spans[0].attributes}
    assert attributes["gen_ai.operation.name"].string_value == "execute_tool"
    assert attributes["llmlab.span.kind"].string_value == "tool"
    assert attributes["llmlab.user_id"].string_value == "u-1"
    assert attributes["llmlab.input"].string_value == '{"x": 1}'


def test_env_configuration(collector: Collector, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMLAB_API_KEY", "llk_env_key_abcdef")
    monkeypatch.setenv("LLMLAB_ENDPOINT", collector.url)
    monkeypatch.setenv("LLMLAB_PROJECT", "proj-env")
    llmlab.init(batch=False)

    @llmlab.trace
    def f() -> None:
        pass

    f()
    llmlab.shutdown()
    _, headers, request = collector.requests[0]
    assert headers["authorization"] == "Bearer llk_env_key_abcdef"
    resource = {a.key: a.value.string_value for a in request.resource_spans[0].resource.attributes}
    assert resource["llmlab.project"] == "proj-env"


def test_init_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLMLAB_API_KEY", raising=False)
    with pytest.raises(ValueError, match="API key"):
        llmlab.init()
    with pytest.raises(ValueError, match="llk_"):
        llmlab.init(api_key="sk-not-ours")
    with pytest.raises(ValueError, match="protocol"):
        llmlab.init(api_key="llk_x", protocol="ftp")  # type: ignore[arg-type]


def test_traces_url() -> None:
    assert traces_url("https://h:8443") == "https://h:8443/v1/traces"
    assert traces_url("https://h/base/") == "https://h/base/v1/traces"
    assert traces_url("https://h/v1/traces") == "https://h/v1/traces"


def test_grpc_protocol_builds_a_grpc_exporter() -> None:
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    provider = llmlab.init(api_key="llk_grpc_key_0123", endpoint="http://127.0.0.1:1", protocol="grpc")
    try:
        processors = provider._active_span_processor._span_processors  # noqa: SLF001
        exporters = [getattr(p, "_exporter", None) or getattr(getattr(p, "_batch_processor", None), "_exporter", None)
                     for p in processors]
        assert any(isinstance(e, OTLPSpanExporter) for e in exporters)
    finally:
        llmlab.shutdown()
