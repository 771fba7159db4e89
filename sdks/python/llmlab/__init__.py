"""LLMLab SDK: traces LLM applications with OpenTelemetry and exports them to LLMLab.

    import llmlab
    llmlab.init(api_key="llk_…", endpoint="https://llmlab.example.com", project="my-project")
    llmlab.instrument_openai()

    @llmlab.trace(kind="tool")
    def lookup(city: str) -> str: ...
"""

from __future__ import annotations

__version__ = "0.1.0"

from ._config import Capture
from ._context import LLMLabSpanProcessor, current_session, current_user, set_session, set_user
from ._setup import flush, init, shutdown
from ._trace import trace
from .instrumentation import (
    instrument_anthropic, instrument_openai, uninstrument_anthropic, uninstrument_openai,
)

__all__ = [
    "Capture",
    "LLMLabSpanProcessor",
    "__version__",
    "current_session",
    "current_user",
    "flush",
    "init",
    "instrument_anthropic",
    "instrument_openai",
    "set_session",
    "set_user",
    "shutdown",
    "trace",
    "uninstrument_anthropic",
    "uninstrument_openai",
]
