"""llmlab.init: an OpenTelemetry tracer provider exporting to LLMLab over OTLP."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse

from opentelemetry import trace as otel_trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter

from ._attributes import LLMLAB_PROJECT
from ._config import DEFAULT_ENDPOINT, STATE, Capture, Protocol, parse_capture
from ._context import LLMLabSpanProcessor

logger = logging.getLogger("llmlab")


def traces_url(endpoint: str) -> str:
    """`{endpoint}/v1/traces` (an endpoint already ending in /v1/traces is kept)."""
    base = endpoint.rstrip("/")
    return base if base.endswith("/v1/traces") else f"{base}/v1/traces"


def default_ca_file() -> str | None:
    """$LLMLAB_HOME/tls/ca.pem (the development server's CA) when it exists."""
    home = os.environ.get("LLMLAB_HOME")
    if home and (Path(home) / "tls" / "ca.pem").is_file():
        return str(Path(home) / "tls" / "ca.pem")
    return None


def _http_exporter(endpoint: str, headers: dict[str, str], ca_file: str | None, timeout: float) -> SpanExporter:
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=traces_url(endpoint), headers=headers, compression=Compression.Gzip,
                            certificate_file=ca_file if endpoint.startswith("https") else None, timeout=timeout)


def _grpc_exporter(endpoint: str, headers: dict[str, str], ca_file: str | None, timeout: float) -> SpanExporter:
    try:
        import grpc
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    except ImportError as error:  # pragma: no cover - depends on the extra
        raise ImportError("protocol='grpc' needs the grpc extra: pip install 'llmlab[grpc]'") from error
    parsed = urlparse(endpoint if "://" in endpoint else f"https://{endpoint}")
    target = parsed.netloc or parsed.path
    insecure = parsed.scheme == "http"
    credentials = None
    if not insecure:
        root = Path(ca_file).read_bytes() if ca_file else None
        credentials = grpc.ssl_channel_credentials(root_certificates=root)
    return OTLPSpanExporter(endpoint=target, insecure=insecure, credentials=credentials,
                            headers=headers, compression=grpc.Compression.Gzip, timeout=timeout)


def init(
    api_key: str | None = None,
    endpoint: str | None = None,
    project: str | None = None,
    *,
    service_name: str | None = None,
    protocol: Protocol | None = None,
    capture: Capture | None = None,
    ca_file: str | None = None,
    headers: Mapping[str, str] | None = None,
    resource_attributes: Mapping[str, str | int | float | bool] | None = None,
    exporter: SpanExporter | None = None,
    batch: bool = True,
    set_global: bool = True,
    max_attribute_chars: int | None = None,
    timeout: float = 10.0,
) -> TracerProvider:
    """Sets up a tracer provider that exports spans to LLMLab and returns it.

    api_key: an LLMLab API key (`llk_…`) with the `ingest` scope; it decides the tenant
        and the project the spans land in. Default: $LLMLAB_API_KEY.
    endpoint: the server's base URL (OTLP/HTTP posts to `{endpoint}/v1/traces`) or, with
        protocol="grpc", the gRPC listener (`https://host:port`). Default: $LLMLAB_ENDPOINT,
        else http://localhost:8080.
    project: informational; sent as the resource attribute `llmlab.project`. It must be
        the key's project (the server rejects or ignores a mismatch: the key decides).
        Default: $LLMLAB_PROJECT.
    protocol: "http" (default, $LLMLAB_PROTOCOL) or "grpc" (needs the `grpc` extra).
    capture: "none" | "metadata" | "full" (default $LLMLAB_CAPTURE, else "full"); see README.
    ca_file: CA bundle for TLS; default $LLMLAB_HOME/tls/ca.pem when present.
    exporter: export with this exporter instead of OTLP (tests, console); no api_key needed.
    batch: BatchSpanProcessor (default) or SimpleSpanProcessor (export as each span ends).
    set_global: also make it OpenTelemetry's global tracer provider (only the first
        provider set in a process becomes global; llmlab's own spans always use the latest).

    Calling init again shuts the previous provider down (flushing it) and replaces it.
    """
    api_key = api_key or os.environ.get("LLMLAB_API_KEY")
    endpoint = endpoint or os.environ.get("LLMLAB_ENDPOINT") or DEFAULT_ENDPOINT
    project = project or os.environ.get("LLMLAB_PROJECT")
    chosen_protocol = (protocol or os.environ.get("LLMLAB_PROTOCOL") or "http").lower()
    if chosen_protocol not in ("http", "grpc"):
        raise ValueError(f"protocol must be 'http' or 'grpc' (got {chosen_protocol!r})")
    policy = parse_capture(capture or os.environ.get("LLMLAB_CAPTURE"))
    ca_file = ca_file or default_ca_file()

    if exporter is None:
        if not api_key:
            raise ValueError("llmlab.init needs an API key: pass api_key='llk_…' or set LLMLAB_API_KEY")
        if not api_key.startswith("llk_"):
            raise ValueError("an LLMLab API key starts with 'llk_' (make one with the `ingest` scope)")
        all_headers = {"authorization": f"Bearer {api_key}", **dict(headers or {})}
        make = _grpc_exporter if chosen_protocol == "grpc" else _http_exporter
        exporter = make(endpoint, all_headers, ca_file, timeout)

    attributes: dict[str, str | int | float | bool] = {
        SERVICE_NAME: service_name or os.environ.get("OTEL_SERVICE_NAME") or "llmlab-app",
    }
    if project:
        attributes[LLMLAB_PROJECT] = project
    attributes.update(resource_attributes or {})
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(LLMLabSpanProcessor())
    provider.add_span_processor(BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter))

    with STATE.lock:
        previous = STATE.provider
        STATE.provider = provider
        STATE.settings.capture = policy
        if max_attribute_chars:
            STATE.settings.max_attribute_chars = max_attribute_chars
    if isinstance(previous, TracerProvider):
        previous.shutdown()
    if set_global:
        _set_global(provider)
    return provider


def _set_global(provider: TracerProvider) -> None:
    current = otel_trace.get_tracer_provider()
    if isinstance(current, otel_trace.ProxyTracerProvider):
        otel_trace.set_tracer_provider(provider)
    elif current is not provider:
        logger.debug("llmlab: a global tracer provider is already set; llmlab spans use the new one")


def flush(timeout_millis: int = 30_000) -> bool:
    """Exports the spans that have ended but are not sent yet; True when done in time."""
    provider = STATE.provider
    if isinstance(provider, TracerProvider):
        return provider.force_flush(timeout_millis)
    return True


def shutdown() -> None:
    """Flushes and shuts the provider from init down; llmlab spans are no-ops afterwards
    until init is called again."""
    with STATE.lock:
        provider, STATE.provider = STATE.provider, None
    if isinstance(provider, TracerProvider):
        provider.shutdown()
