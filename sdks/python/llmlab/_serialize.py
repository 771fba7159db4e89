"""Safe, size-capped JSON for captured arguments, results and messages, with secrets
redacted by key name (and by the look of well-known credential values)."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any

from ._config import REDACTED, settings

_MAX_DEPTH = 8
_MAX_ITEMS = 100
_SECRET_VALUE = re.compile(r"^(Bearer\s+\S+|llk_[A-Za-z0-9_\-]{8,}|sk-[A-Za-z0-9_\-]{8,}|sk-ant-[A-Za-z0-9_\-]{8,})$")


def is_secret_key(key: str, redact_keys: tuple[str, ...] | None = None) -> bool:
    lowered = key.lower()
    return any(marker in lowered for marker in (redact_keys or settings().redact_keys))


def to_jsonable(value: Any, *, _depth: int = 0) -> Any:
    """A JSON-able copy of value: secrets redacted, containers bounded, objects described."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return REDACTED if _SECRET_VALUE.match(value) else value
    if _depth >= _MAX_DEPTH:
        return f"<{type(value).__name__}>"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{type(value).__name__} len={len(value)}>"
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for index, (key, item) in enumerate(value.items()):
            if index >= _MAX_ITEMS:
                out["…"] = f"{len(value) - _MAX_ITEMS} more"
                break
            name = str(key)
            out[name] = REDACTED if is_secret_key(name) else to_jsonable(item, _depth=_depth + 1)
        return out
    if isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
        converted = [to_jsonable(item, _depth=_depth + 1) for item in items[:_MAX_ITEMS]]
        if len(items) > _MAX_ITEMS:
            converted.append(f"… {len(items) - _MAX_ITEMS} more")
        return converted
    model_dump = getattr(value, "model_dump", None)  # pydantic v2 (and the OpenAI/Anthropic types)
    if callable(model_dump):
        try:
            return to_jsonable(model_dump(mode="json"), _depth=_depth + 1)
        except Exception:  # noqa: BLE001 - fall back to repr
            pass
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        try:
            return to_jsonable({f.name: getattr(value, f.name) for f in dataclasses.fields(value)}, _depth=_depth + 1)
        except Exception:  # noqa: BLE001
            pass
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not break the traced call
        text = f"<{type(value).__name__}>"
    return text[:256]


def cap(text: str, limit: int | None = None) -> str:
    limit = limit or settings().max_attribute_chars
    if len(text) <= limit:
        return text
    return text[:limit] + f"…[truncated {len(text) - limit} chars]"


def dumps(value: Any, limit: int | None = None) -> str:
    """Redacted JSON text of value, cut to limit characters (default: the init setting)."""
    try:
        text = json.dumps(to_jsonable(value), ensure_ascii=False, default=str)
    except Exception:  # noqa: BLE001
        text = json.dumps(f"<unserialisable {type(value).__name__}>")
    return cap(text, limit)


def type_name(value: Any) -> str:
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
