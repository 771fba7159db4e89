"""@llmlab.trace: a span around a function, coroutine, generator or async generator
(for generators the span covers the whole iteration)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from typing import Any, Final, ParamSpec, TypeVar, cast, overload

from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.trace import Span, Status, StatusCode
from opentelemetry.util.types import AttributeValue


from ._attributes import (
    ERROR_TYPE, GEN_AI_AGENT_NAME, GEN_AI_OPERATION_NAME, GEN_AI_TOOL_NAME, LLMLAB_INPUT, LLMLAB_OUTPUT,
    LLMLAB_SPAN_KIND, OPERATION_FOR_KIND, SPAN_KINDS, SpanKind,
)
from ._config import Capture, get_tracer, parse_capture, settings
from ._serialize import dumps, is_secret_key, type_name

P = ParamSpec("P")
R = TypeVar("R")

_MAX_GENERATOR_ITEMS: Final = 100


def record_error(span: Span, error: BaseException, capture: Capture) -> None:
    """Status ERROR and error.type; with capture metadata/full also the exception event
    (message and stack trace)."""
    span.set_attribute(ERROR_TYPE, type_name(error))
    if capture == "none":
        span.set_status(Status(StatusCode.ERROR))
    else:
        span.record_exception(error, escaped=True)
        span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))


class _Traced:
    """What a decorated function shares between calls."""

    def __init__(self, func: Callable[..., Any], name: str | None, kind: SpanKind | None,
                 attributes: Mapping[str, AttributeValue] | None, capture: Capture | None) -> None:
        if kind is not None and kind not in SPAN_KINDS:
            raise ValueError(f"kind must be one of {sorted(SPAN_KINDS)} (got {kind!r})")
        self.func = func
        self.name: str = name or str(getattr(func, "__qualname__", None) or getattr(func, "__name__", "function"))
        self.kind = kind
        self.capture = capture
        self.attributes: dict[str, AttributeValue] = {}
        if kind:
            self.attributes[LLMLAB_SPAN_KIND] = kind
            if operation := OPERATION_FOR_KIND.get(kind):
                self.attributes[GEN_AI_OPERATION_NAME] = operation
            if kind == "tool":
                self.attributes[GEN_AI_TOOL_NAME] = self.name
            elif kind == "agent":
                self.attributes[GEN_AI_AGENT_NAME] = self.name
        self.attributes.update(attributes or {})
        try:
            self.signature: inspect.Signature | None = inspect.signature(func)
        except (TypeError, ValueError):
            self.signature = None
        # A fast path for the common signature (no *args / **kwargs): name the arguments
        # without `Signature.bind_partial`, which costs microseconds per call.
        parameters = list(self.signature.parameters.values()) if self.signature else []
        simple = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        self._simple = self.signature is not None and all(p.kind in simple for p in parameters)
        self._order: list[tuple[str, bool, Any]] = [
            (p.name, p.kind is not inspect.Parameter.KEYWORD_ONLY, p.default) for p in parameters]
        self._positional_count = sum(1 for _, positional, _ in self._order if positional)
        self._names = frozenset(name for name, _, _ in self._order)

    def policy(self) -> Capture:
        return self.capture or settings().capture

    def start(self) -> Span:
        return get_tracer().start_span(self.name, attributes=self.attributes)

    def arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if self._simple and len(args) <= self._positional_count and all(key in self._names for key in kwargs):
            out: dict[str, Any] = {}
            for index, (name, _, default) in enumerate(self._order):
                if index < len(args):
                    if name in kwargs:
                        break  # given twice: the call itself will fail; describe it the slow way
                    value = args[index]
                elif name in kwargs:
                    value = kwargs[name]
                elif default is not inspect.Parameter.empty:
                    value = default
                else:
                    continue
                if name not in ("self", "cls"):
                    out[name] = value
            else:
                return out
        if self.signature is None:
            return {"args": list(args), "kwargs": kwargs}
        try:
            bound = self.signature.bind_partial(*args, **kwargs)
            bound.apply_defaults()
        except TypeError:
            return {"args": list(args), "kwargs": kwargs}
        out = {}
        for key, value in bound.arguments.items():
            if key in ("self", "cls"):
                continue
            parameter = self.signature.parameters[key]
            if parameter.kind is inspect.Parameter.VAR_KEYWORD and isinstance(value, dict):
                out.update(value)
            else:
                out[key] = value
        return out

    def record_input(self, span: Span, capture: Capture, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if capture == "none":
            return
        arguments = self.arguments(args, kwargs)
        if capture == "full":
            span.set_attribute(LLMLAB_INPUT, dumps(arguments))
        else:
            span.set_attribute(LLMLAB_INPUT, dumps({
                key: ("[REDACTED]" if is_secret_key(key) else f"<{type_name(value)}>")
                for key, value in arguments.items()}))

    def record_output(self, span: Span, capture: Capture, result: Any) -> None:
        if capture == "full":
            span.set_attribute(LLMLAB_OUTPUT, dumps(result))
        elif capture == "metadata":
            span.set_attribute(LLMLAB_OUTPUT, dumps(f"<{type_name(result)}>"))


def _wrap_function(t: _Traced) -> Callable[..., Any]:
    func = t.func

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        capture = t.policy()
        span = t.start()
        with otel_trace.use_span(span, end_on_exit=True, record_exception=False, set_status_on_exception=False):
            t.record_input(span, capture, args, kwargs)
            try:
                result = func(*args, **kwargs)
            except BaseException as error:
                record_error(span, error, capture)
                raise
            t.record_output(span, capture, result)
            return result

    return wrapper


def _wrap_coroutine(t: _Traced) -> Callable[..., Any]:
    func = t.func

    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        capture = t.policy()
        span = t.start()
        with otel_trace.use_span(span, end_on_exit=True, record_exception=False, set_status_on_exception=False):
            t.record_input(span, capture, args, kwargs)
            try:
                result = await func(*args, **kwargs)
            except BaseException as error:
                record_error(span, error, capture)
                raise
            t.record_output(span, capture, result)
            return result

    return wrapper


def _wrap_generator(t: _Traced) -> Callable[..., Any]:
    func = t.func

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        capture = t.policy()
        span = t.start()
        ctx = otel_trace.set_span_in_context(span)
        t.record_input(span, capture, args, kwargs)
        items: list[Any] = []
        count = 0
        try:
            token = otel_context.attach(ctx)
            try:
                inner: Generator[Any, Any, Any] = func(*args, **kwargs)
            finally:
                otel_context.detach(token)
            send: Callable[[Any], Any] = inner.send
            value: Any = None
            while True:
                # The span is current only while the generator's own code runs, not in the
                # consumer's between items.
                token = otel_context.attach(ctx)
                try:
                    item = send(value)
                except StopIteration as stop:
                    t.record_output(span, capture, items if stop.value is None else stop.value)
                    return stop.value
                finally:
                    otel_context.detach(token)
                count += 1
                if len(items) < _MAX_GENERATOR_ITEMS:
                    items.append(item)
                try:
                    value = yield item
                    send = inner.send
                except GeneratorExit:
                    token = otel_context.attach(ctx)
                    try:
                        inner.close()
                    finally:
                        otel_context.detach(token)
                    t.record_output(span, capture, items)
                    raise
                except BaseException as thrown:  # thrown in by the consumer: pass it on
                    send, value = cast(Callable[[Any], Any], inner.throw), thrown
        except GeneratorExit:
            raise
        except BaseException as error:
            record_error(span, error, capture)
            raise
        finally:
            span.set_attribute("llmlab.generator.items", count)
            span.end()

    return wrapper


def _wrap_async_generator(t: _Traced) -> Callable[..., Any]:
    func = t.func

    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        capture = t.policy()
        span = t.start()
        ctx = otel_trace.set_span_in_context(span)
        t.record_input(span, capture, args, kwargs)
        items: list[Any] = []
        count = 0
        try:
            token = otel_context.attach(ctx)
            try:
                inner: AsyncGenerator[Any, Any] = func(*args, **kwargs)
            finally:
                otel_context.detach(token)
            send: Callable[[Any], Any] = inner.asend
            value: Any = None
            while True:
                token = otel_context.attach(ctx)
                try:
                    item = await send(value)
                except StopAsyncIteration:
                    t.record_output(span, capture, items)
                    return
                finally:
                    otel_context.detach(token)
                count += 1
                if len(items) < _MAX_GENERATOR_ITEMS:
                    items.append(item)
                try:
                    value = yield item
                    send = inner.asend
                except GeneratorExit:
                    token = otel_context.attach(ctx)
                    try:
                        await inner.aclose()
                    finally:
                        otel_context.detach(token)
                    t.record_output(span, capture, items)
                    raise
                except BaseException as thrown:
                    send, value = cast(Callable[[Any], Any], inner.athrow), thrown
        except GeneratorExit:
            raise
        except BaseException as error:
            record_error(span, error, capture)
            raise
        finally:
            span.set_attribute("llmlab.generator.items", count)
            span.end()

    return wrapper


def _decorate(func: Callable[P, R], name: str | None, kind: SpanKind | None,
              attributes: Mapping[str, AttributeValue] | None, capture: Capture | None) -> Callable[P, R]:
    traced = _Traced(func, name, kind, attributes, capture)
    if inspect.isasyncgenfunction(func):
        wrapped = _wrap_async_generator(traced)
    elif inspect.iscoroutinefunction(func):
        wrapped = _wrap_coroutine(traced)
    elif inspect.isgeneratorfunction(func):
        wrapped = _wrap_generator(traced)
    else:
        wrapped = _wrap_function(traced)
    return cast(Callable[P, R], wrapped)


@overload
def trace(func: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def trace(
    func: None = None, /, *, name: str | None = None, kind: SpanKind | None = None,
    attributes: Mapping[str, AttributeValue] | None = None, capture: Capture | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def trace(
    func: Callable[P, R] | None = None, /, *, name: str | None = None, kind: SpanKind | None = None,
    attributes: Mapping[str, AttributeValue] | None = None, capture: Capture | None = None,
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Traces a function, coroutine function, generator or async generator function.

        @llmlab.trace
        def step(x): ...

        @llmlab.trace(name="search", kind="tool", attributes={"team": "a"}, capture="metadata")
        async def search(query: str) -> list[str]: ...

    name: the span name (default: the function's qualified name).
    kind: llm / tool / agent / chain / retriever / embedding → `llmlab.span.kind` (and
        `gen_ai.operation.name` execute_tool / invoke_agent / chat / embeddings, with
        `gen_ai.tool.name` or `gen_ai.agent.name` set to the span name).
    capture: "none" (nothing of the arguments or result), "metadata" (names and types),
        "full" (redacted, size-capped JSON in `llmlab.input` / `llmlab.output`); default:
        the init/LLMLAB_CAPTURE policy. Exceptions set status ERROR and `error.type`, are
        recorded as an event unless capture is "none", and are re-raised.
    """
    checked = parse_capture(capture) if capture is not None else None
    if kind is not None and kind not in SPAN_KINDS:
        raise ValueError(f"kind must be one of {sorted(SPAN_KINDS)} (got {kind!r})")
    if func is not None:
        return _decorate(func, name, kind, attributes, checked)

    def decorator(inner: Callable[P, R]) -> Callable[P, R]:
        return _decorate(inner, name, kind, attributes, checked)

    return decorator
