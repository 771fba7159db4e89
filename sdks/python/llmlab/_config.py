"""Settings of llmlab.init and the process-wide state the decorator and the
instrumentations read (the tracer provider, the capture policy, size caps)."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Final, Literal

from opentelemetry import trace as otel_trace
from opentelemetry.trace import Tracer, TracerProvider

Capture = Literal["none", "metadata", "full"]
CAPTURE_POLICIES: Final[frozenset[str]] = frozenset({"none", "metadata", "full"})
Protocol = Literal["http", "grpc"]

DEFAULT_ENDPOINT: Final = "http://localhost:8080"
DEFAULT_MAX_ATTRIBUTE_CHARS: Final = 16_384
# Keys whose values are never captured (case-insensitive; a key matches when it contains one).
DEFAULT_REDACT_KEYS: Final[tuple[str, ...]] = (
    "api_key", "apikey", "api-key", "password", "passwd", "secret", "token", "authorization",
    "auth", "cookie", "credential", "private_key", "access_key",
)
REDACTED: Final = "[REDACTED]"
TRACER_NAME: Final = "llmlab"


def parse_capture(value: str | None, default: Capture = "full") -> Capture:
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered == "none":
        return "none"
    if lowered == "metadata":
        return "metadata"
    if lowered == "full":
        return "full"
    raise ValueError(f"capture must be one of 'none', 'metadata', 'full' (got {value!r})")


@dataclass
class Settings:
    capture: Capture = "full"
    max_attribute_chars: int = DEFAULT_MAX_ATTRIBUTE_CHARS
    redact_keys: tuple[str, ...] = DEFAULT_REDACT_KEYS


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    provider: TracerProvider | None = None
    settings: Settings = field(default_factory=Settings)


STATE: Final = _State()
# The capture policy also applies before init (e.g. in tests with their own provider).
STATE.settings.capture = parse_capture(os.environ.get("LLMLAB_CAPTURE"))


def settings() -> Settings:
    return STATE.settings


def tracer_provider() -> TracerProvider:
    """The provider llmlab.init made, else OpenTelemetry's global one."""
    return STATE.provider if STATE.provider is not None else otel_trace.get_tracer_provider()


_TRACERS: dict[int, tuple[TracerProvider, Tracer]] = {}


def get_tracer(provider: TracerProvider | None = None) -> Tracer:
    """The SDK's tracer on `provider` (default: ``tracer_provider()``), made once per
    provider: `TracerProvider.get_tracer` builds a new tracer and scope each call, which
    was a fifth of the decorator's cost per span."""
    from . import __version__

    target = provider or tracer_provider()
    cached = _TRACERS.get(id(target))
    if cached is not None and cached[0] is target:
        return cached[1]
    tracer = target.get_tracer(TRACER_NAME, __version__)
    if len(_TRACERS) > 64:
        _TRACERS.clear()
    _TRACERS[id(target)] = (target, tracer)
    return tracer
