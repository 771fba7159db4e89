"""Session and user ids carried in contextvars and stamped on every span started in that
context (ours and third-party instrumentations') by LLMLabSpanProcessor."""

from __future__ import annotations

import contextvars
from types import TracebackType
from typing import Final

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from ._attributes import LLMLAB_SESSION_ID, LLMLAB_USER_ID

_SESSION: Final[contextvars.ContextVar[str | None]] = contextvars.ContextVar("llmlab_session_id", default=None)
_USER: Final[contextvars.ContextVar[str | None]] = contextvars.ContextVar("llmlab_user_id", default=None)


class ContextValue:
    """What set_session / set_user return: the value stays set in the current context;
    used as a context manager, the previous value comes back on exit."""

    def __init__(self, var: contextvars.ContextVar[str | None], value: str | None) -> None:
        self._var = var
        self._token = var.set(value)
        self.value = value

    def reset(self) -> None:
        self._var.reset(self._token)

    def __enter__(self) -> ContextValue:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.reset()


def set_session(session_id: str | None) -> ContextValue:
    """Sets `llmlab.session_id` for spans started in this context (None clears it)."""
    return ContextValue(_SESSION, session_id)


def set_user(user_id: str | None) -> ContextValue:
    """Sets `llmlab.user_id` for spans started in this context (None clears it)."""
    return ContextValue(_USER, user_id)


def current_session() -> str | None:
    return _SESSION.get()


def current_user() -> str | None:
    return _USER.get()


class LLMLabSpanProcessor(SpanProcessor):
    """Stamps the current session and user ids on each span as it starts."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        session, user = _SESSION.get(), _USER.get()
        if session:
            span.set_attribute(LLMLAB_SESSION_ID, session)
        if user:
            span.set_attribute(LLMLAB_USER_ID, user)

    def on_end(self, span: ReadableSpan) -> None:
        pass

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
