"""The control-plane client against an in-process gRPC server built from the generated
servicers (usage events, cost, pagination, the bearer token) and trace queries."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from decimal import Decimal
from typing import Any

import grpc
import pytest

from llmlab.client import LLMLabClient, TraceQueryUnavailableError
from llmlab.v1 import usage_pb2, usage_pb2_grpc

TOKEN = "llk_control_key_abc"


class Usage(usage_pb2_grpc.UsageServiceServicer):  # type: ignore[misc]
    def __init__(self) -> None:
        self.metadata: list[dict[str, str]] = []
        self.requests: list[Any] = []

    def ListUsageEvents(self, request: Any, context: Any) -> Any:
        self.metadata.append(dict(context.invocation_metadata()))
        self.requests.append(request)
        if request.page_token == "":
            return usage_pb2.ListUsageEventsResponse(events=[
                usage_pb2.UsageEvent(request_id="r1", model="gpt-4o", cost_usd="0.0125", priced=True),
                usage_pb2.UsageEvent(request_id="r2", model="gpt-4o", cost_usd="0.5", priced=True)],
                next_page_token="p2")
        return usage_pb2.ListUsageEventsResponse(events=[
            usage_pb2.UsageEvent(request_id="r3", model="gpt-4o", priced=False, unpriced_reason="unknown model")])


@pytest.fixture
def server() -> Iterator[tuple[Usage, int]]:
    usage = Usage()
    grpc_server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    usage_pb2_grpc.add_UsageServiceServicer_to_server(usage, grpc_server)
    port = grpc_server.add_insecure_port("127.0.0.1:0")
    grpc_server.start()
    yield usage, port
    grpc_server.stop(None)


def test_usage_events_and_cost(server: tuple[Usage, int]) -> None:
    usage, port = server
    with LLMLabClient(f"http://127.0.0.1:{port}", token=TOKEN) as client:
        page = client.list_usage_events(model="gpt-4o", page_size=2)
        assert [e.request_id for e in page.events] == ["r1", "r2"] and page.next_page_token == "p2"
        assert [e.request_id for e in client.iter_usage_events(model="gpt-4o")] == ["r1", "r2", "r3"]
        assert client.total_cost(model="gpt-4o") == (Decimal("0.5125"), 1)
    assert usage.metadata[0]["authorization"] == f"Bearer {TOKEN}"
    assert usage.requests[0].model == "gpt-4o" and usage.requests[0].page_size == 2


def test_trace_queries() -> None:
    client = LLMLabClient("127.0.0.1:1", token=TOKEN, insecure=True)
    try:
        try:
            from llmlab.v1 import trace_pb2, trace_pb2_grpc  # noqa: F401
        except ImportError:
            assert not client.trace_queries_available()
            with pytest.raises(TraceQueryUnavailableError, match="trace.proto"):
                client.get_trace("abc")
            return
        assert client.trace_queries_available()
        with pytest.raises(grpc.RpcError):  # nothing listens on port 1
            client.get_trace("0af7651916cd43dd8448eb211c80319c")
    finally:
        client.close()
