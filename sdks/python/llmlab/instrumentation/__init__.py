"""Instrumentation of the official OpenAI and Anthropic clients (imported lazily, so the
SDK works without them)."""

from __future__ import annotations

from opentelemetry.trace import TracerProvider

from .._config import Capture


def instrument_openai(*, tracer_provider: TracerProvider | None = None, capture: Capture | None = None) -> None:
    """Traces `chat.completions.create` of openai.OpenAI and openai.AsyncOpenAI (streaming
    included). Idempotent: a second call only updates tracer_provider/capture."""
    from . import openai

    openai.instrument(tracer_provider=tracer_provider, capture=capture)


def uninstrument_openai() -> None:
    from . import openai

    openai.uninstrument()


def instrument_anthropic(*, tracer_provider: TracerProvider | None = None, capture: Capture | None = None) -> None:
    """Traces `messages.create` of anthropic.Anthropic and anthropic.AsyncAnthropic
    (streaming included). Idempotent."""
    from . import anthropic

    anthropic.instrument(tracer_provider=tracer_provider, capture=capture)


def uninstrument_anthropic() -> None:
    from . import anthropic

    anthropic.uninstrument()
