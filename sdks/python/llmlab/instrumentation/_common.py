"""What the OpenAI and Anthropic instrumentations share: patching class methods
idempotently, the span around one model call, and stream wrappers that end the span when
the stream is consumed, closed or fails."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol

from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider

from .._attributes import (
    ERROR_TYPE, GEN_AI_OPERATION_NAME, GEN_AI_PROVIDER_NAME, GEN_AI_REQUEST_MODEL, HTTP_RESPONSE_STATUS_CODE,
    LLMLAB_SPAN_KIND, LLMLAB_STREAMING, LLMLAB_TTFT_MS,
)
from .._config import Capture, get_tracer, settings

_MARK = "__llmlab_original__"


@dataclass
class Options:
    tracer_provider: TracerProvider | None = None
    capture: Capture | None = None

    def policy(self) -> Capture:
        return self.capture or settings().capture


class Accumulator(Protocol):
    """Reads a streamed response event by event and puts what it learned on the span."""

    def add(self, event: Any) -> None: ...

    def finish(self, span: Span, capture: Capture) -> None: ...


@dataclass
class Patcher:
    """Replaces methods on classes and puts the originals back; patching twice is a no-op."""

    targets: list[tuple[type[Any], str, Callable[[Callable[..., Any]], Callable[..., Any]]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def patch(self) -> None:
        with self.lock:
            for cls, name, make in self.targets:
                current = cls.__dict__.get(name)
                if current is None or hasattr(current, _MARK):
                    continue
                wrapper = make(current)
                setattr(wrapper, _MARK, current)
                setattr(cls, name, wrapper)

    def unpatch(self) -> None:
        with self.lock:
            for cls, name, _ in self.targets:
                current = cls.__dict__.get(name)
                original = getattr(current, _MARK, None)
                if original is not None:
                    setattr(cls, name, original)

    def patched(self) -> bool:
        return any(hasattr(cls.__dict__.get(name), _MARK) for cls, name, _ in self.targets)


def start_llm_span(options: Options, provider: str, model: str, attributes: dict[str, Any]) -> Span:
    base: dict[str, Any] = {
        GEN_AI_OPERATION_NAME: "chat",
        GEN_AI_PROVIDER_NAME: provider,
        LLMLAB_SPAN_KIND: "llm",
    }
    if model:
        base[GEN_AI_REQUEST_MODEL] = model
    base.update({k: v for k, v in attributes.items() if v is not None})
    tracer = get_tracer(options.tracer_provider)
    return tracer.start_span(f"chat {model}".strip(), kind=SpanKind.CLIENT, attributes=base)


def record_api_error(span: Span, error: BaseException, capture: Capture) -> None:
    status = getattr(error, "status_code", None)
    if isinstance(status, int):
        span.set_attribute(HTTP_RESPONSE_STATUS_CODE, status)
    span.set_attribute(ERROR_TYPE, type(error).__name__)
    if capture == "none":
        span.set_status(Status(StatusCode.ERROR))
    else:
        span.record_exception(error, escaped=True)
        span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"[:1024]))


def call_sync(options: Options, span: Span, original: Callable[..., Any], args: tuple[Any, ...],
              kwargs: dict[str, Any]) -> Any:
    """Runs the original call with the span current; ends the span on error."""
    token = otel_context.attach(otel_trace.set_span_in_context(span))
    try:
        return original(*args, **kwargs)
    except BaseException as error:
        record_api_error(span, error, options.policy())
        span.end()
        raise
    finally:
        otel_context.detach(token)


async def call_async(options: Options, span: Span, original: Callable[..., Any], args: tuple[Any, ...],
                     kwargs: dict[str, Any]) -> Any:
    token = otel_context.attach(otel_trace.set_span_in_context(span))
    try:
        return await original(*args, **kwargs)
    except BaseException as error:
        record_api_error(span, error, options.policy())
        span.end()
        raise
    finally:
        otel_context.detach(token)


class _StreamState:
    def __init__(self, span: Span, accumulator: Accumulator, capture: Capture) -> None:
        self.span = span
        self.accumulator = accumulator
        self.capture = capture
        self.started = time.monotonic()
        self.first: float | None = None
        self.ended = False
        span.set_attribute(LLMLAB_STREAMING, True)

    def add(self, event: Any) -> None:
        if self.first is None:
            self.first = time.monotonic()
            self.span.set_attribute(LLMLAB_TTFT_MS, round((self.first - self.started) * 1000, 3))
        try:
            self.accumulator.add(event)
        except Exception:  # noqa: BLE001 - instrumentation must never break the stream
            pass

    def end(self, error: BaseException | None = None) -> None:
        if self.ended:
            return
        self.ended = True
        try:
            self.accumulator.finish(self.span, self.capture)
        except Exception:  # noqa: BLE001
            pass
        if error is not None:
            record_api_error(self.span, error, self.capture)
        self.span.end()


class TracedStream:
    """Wraps a sync Stream: iterate it, use it as a context manager, close it; other
    attributes reach the wrapped stream. The span ends when the stream is exhausted,
    fails, is closed, or is garbage-collected unfinished."""

    def __init__(self, stream: Any, span: Span, accumulator: Accumulator, capture: Capture) -> None:
        self.__wrapped__ = stream
        self._llmlab = _StreamState(span, accumulator, capture)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__wrapped__, name)

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        try:
            event = next(self.__wrapped__)
        except StopIteration:
            self._llmlab.end()
            raise
        except BaseException as error:
            self._llmlab.end(error)
            raise
        self._llmlab.add(event)
        return event

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            self._llmlab.end()

    def __enter__(self) -> TracedStream:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __del__(self) -> None:
        state = self.__dict__.get("_llmlab")
        if state is not None and not state.ended:
            state.end()


class TracedAsyncStream:
    """The async counterpart of TracedStream."""

    def __init__(self, stream: Any, span: Span, accumulator: Accumulator, capture: Capture) -> None:
        self.__wrapped__ = stream
        self._llmlab = _StreamState(span, accumulator, capture)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__wrapped__, name)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        try:
            event = await self.__wrapped__.__anext__()
        except StopAsyncIteration:
            self._llmlab.end()
            raise
        except BaseException as error:
            self._llmlab.end(error)
            raise
        self._llmlab.add(event)
        return event

    async def close(self) -> None:
        try:
            await self.__wrapped__.close()
        finally:
            self._llmlab.end()

    async def aclose(self) -> None:
        await self.close()

    async def __aenter__(self) -> TracedAsyncStream:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    def __del__(self) -> None:
        state = self.__dict__.get("_llmlab")
        if state is not None and not state.ended:
            state.end()


def wraps(original: Callable[..., Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return functools.wraps(original)


def int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def get(obj: Any, name: str) -> Any:
    """obj.name or obj[name] (SDK objects and plain dicts alike)."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)
