"""Control-plane client over gRPC, with stubs generated from the repository's Proto/ at
build time (llmlab.v1): usage events and costs, and trace queries
(`llmlab.v1.TraceQueryService` ListTraces / GetTrace / ExplainTrace).

    from llmlab.client import LLMLabClient
    with LLMLabClient("localhost:8443", token="llk_…") as client:
        for event in client.iter_usage_events(model="gpt-4o"):
            print(event.request_id, event.cost_usd)

Every call carries `authorization: Bearer <token>` (an API key with a control-plane scope,
a login session token, or the operator token)."""

from __future__ import annotations

import datetime as dt
import importlib
import os
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

import grpc

from ._setup import default_ca_file


class TraceQueryUnavailableError(RuntimeError):
    """The installed SDK was built without Proto/llmlab/v1/trace.proto (TraceQueryService)."""


def _load(module: str) -> ModuleType:
    return importlib.import_module(f"llmlab.v1.{module}")


def _stubs_missing(error: ImportError) -> ImportError:
    return ImportError(
        "llmlab.v1 stubs are missing: they are generated from the repository's Proto/ when the SDK is "
        "built; reinstall from the repository (pip install ./sdks/python)") if "llmlab.v1" in str(error) else error


def _timestamp(value: dt.datetime | None) -> Any:
    if value is None:
        return None
    from google.protobuf.timestamp_pb2 import Timestamp

    stamp = Timestamp()
    stamp.FromDatetime(value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc))
    return stamp


class LLMLabClient:
    """A channel to the server's gRPC listener.

    target: "host:port" (or "https://host:port" / "http://host:port" for plaintext).
    token: the bearer credential; default $LLMLAB_API_KEY.
    ca_file: CA bundle for TLS; default $LLMLAB_HOME/tls/ca.pem when present, else the
        system roots. insecure=True (or an http:// target) uses a plaintext channel.
    """

    def __init__(self, target: str, *, token: str | None = None, ca_file: str | None = None,
                 insecure: bool = False, timeout: float = 10.0,
                 channel: grpc.Channel | None = None) -> None:
        self.token = token or os.environ.get("LLMLAB_API_KEY") or ""
        self.timeout = timeout
        if target.startswith("http://"):
            target, insecure = target.removeprefix("http://"), True
        target = target.removeprefix("https://").rstrip("/")
        if channel is not None:
            self.channel = channel
        elif insecure:
            self.channel = grpc.insecure_channel(target)
        else:
            ca = ca_file or default_ca_file()
            roots = Path(ca).read_bytes() if ca else None
            self.channel = grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=roots))
        try:
            self._usage = _load("usage_pb2")
            self._usage_grpc = _load("usage_pb2_grpc")
        except ImportError as error:
            raise _stubs_missing(error) from error
        self._usage_stub: Any = self._usage_grpc.UsageServiceStub(self.channel)
        self._trace_stub: Any = None
        self._trace: ModuleType | None = None

    # -- plumbing
    def _metadata(self) -> Sequence[tuple[str, str]]:
        return [("authorization", f"Bearer {self.token}")] if self.token else []

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> LLMLabClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- usage and cost
    def list_usage_events(self, *, since: dt.datetime | None = None, until: dt.datetime | None = None,
                          project_id: str = "", api_key_id: str = "", model: str = "", status_class: str = "",
                          page_size: int = 0, page_token: str = "") -> Any:
        """One page (llmlab.v1.ListUsageEventsResponse: .events, .next_page_token), newest first."""
        request = self._usage.ListUsageEventsRequest(
            since=_timestamp(since), until=_timestamp(until), project_id=project_id, api_key_id=api_key_id,
            model=model, status_class=status_class, page_size=page_size, page_token=page_token)
        return self._usage_stub.ListUsageEvents(request, metadata=self._metadata(), timeout=self.timeout)

    def iter_usage_events(self, **filters: Any) -> Iterator[Any]:
        """Every matching llmlab.v1.UsageEvent, following next_page_token."""
        token = str(filters.pop("page_token", ""))
        while True:
            page = self.list_usage_events(page_token=token, **filters)
            yield from page.events
            token = page.next_page_token
            if not token:
                return

    def total_cost(self, **filters: Any) -> tuple[Decimal, int]:
        """(sum of cost_usd over the priced events, number of unpriced events) for the filters
        of list_usage_events."""
        total, unpriced = Decimal(0), 0
        for event in self.iter_usage_events(**filters):
            if event.priced and event.cost_usd:
                total += Decimal(event.cost_usd)
            else:
                unpriced += 1
        return total, unpriced

    # -- traces (TraceQueryService, Proto/llmlab/v1/trace.proto)
    def _traces(self) -> tuple[ModuleType, Any]:
        if self._trace is None:
            try:
                self._trace = _load("trace_pb2")
                grpc_module = _load("trace_pb2_grpc")
            except ImportError as error:
                raise TraceQueryUnavailableError(
                    "trace queries need llmlab.v1.TraceQueryService, generated from Proto/llmlab/v1/trace.proto, "
                    "which was not in the repository when this SDK was built; update the checkout and reinstall "
                    "(pip install ./sdks/python)") from error
            stub = getattr(grpc_module, "TraceQueryServiceStub", None)
            if stub is None:
                raise TraceQueryUnavailableError("Proto/llmlab/v1/trace.proto defines no TraceQueryService")
            self._trace_stub = stub(self.channel)
        return self._trace, self._trace_stub

    def _trace_call(self, method: str, request_type: str, fields: dict[str, Any]) -> Any:
        module, stub = self._traces()
        request = getattr(module, request_type)(**{k: v for k, v in fields.items() if v is not None})
        return getattr(stub, method)(request, metadata=self._metadata(), timeout=self.timeout)

    def list_traces(self, **fields: Any) -> Any:
        """TraceQueryService.ListTraces(ListTracesRequest(**fields)); datetimes become Timestamps."""
        converted = {k: _timestamp(v) if isinstance(v, dt.datetime) else v for k, v in fields.items()}
        return self._trace_call("ListTraces", "ListTracesRequest", converted)

    def get_trace(self, trace_id: str, **fields: Any) -> Any:
        """TraceQueryService.GetTrace(GetTraceRequest(trace_id=…, **fields))."""
        return self._trace_call("GetTrace", "GetTraceRequest", {"trace_id": trace_id, **fields})

    def explain_trace(self, trace_id: str, **fields: Any) -> Any:
        """TraceQueryService.ExplainTrace(ExplainTraceRequest(trace_id=…, **fields))."""
        return self._trace_call("ExplainTrace", "ExplainTraceRequest", {"trace_id": trace_id, **fields})

    def trace_queries_available(self) -> bool:
        try:
            self._traces()
        except TraceQueryUnavailableError:
            return False
        return True
