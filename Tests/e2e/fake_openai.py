"""A fake OpenAI Chat Completions upstream on a loopback socket (stdlib only).

It speaks the documented shapes, like Tests/LLMLabGatewayTests/Support/FakeOpenAI.swift:
a JSON completion with `usage` (including `prompt_tokens_details.cached_tokens` and
`completion_tokens_details.reasoning_tokens`); an SSE stream of `data: {chunk}` events with a
final `"choices": []` usage chunk only when the request set `stream_options.include_usage`,
then `data: [DONE]`; `tool_calls` with finish_reason "tool_calls" when the request has
`tools`; errors in OpenAI's body shape. What it does depends on the requested model:

- `rate-limited`: 429 with `retry-after: 30`
- `server-error`: 500
- `bad-request`: 400 `invalid_request_error`
- `slow-eof` (streaming): the body ends 0.5 s after `data: [DONE]`
- anything else: success, reporting the requested model

`POST /v1/embeddings` answers `{"object":"list","data":[{"object":"embedding","index":i,
"embedding":[…]}],"model","usage":{"prompt_tokens","total_tokens"}}` (EMBEDDING_DIMENSIONS
floats per input, EMBEDDING_TOKENS_PER_INPUT tokens per input); `rate-limited` → 429 there too.

Every request is recorded so tests can check what the proxy sent upstream.
"""

from __future__ import annotations

import base64
import json
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

COMPLETION_ID = "chatcmpl-fake123"
CREATED = 1741569952
CHUNKS = ["Hel", "lo", " there", "!"]
TEXT = "".join(CHUNKS)
TOOL_ARGUMENTS = '{"city":"Paris","unit":"celsius"}'
USAGE: dict[str, Any] = {
    "prompt_tokens": 1200,
    "completion_tokens": 350,
    "total_tokens": 1550,
    "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 128,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}
# Longer than the proxy waits for a same-deployment retry (20 s), so it answers the 429 at
# once (one call upstream) and the suite stays quick; the header must reach the client.
RETRY_AFTER = "30"
EMBEDDING_DIMENSIONS = 8
EMBEDDING_TOKENS_PER_INPUT = 5


def embedding_vector(index: int) -> list[float]:
    return [0.125 * (index + 1) + 0.0625 * d for d in range(EMBEDDING_DIMENSIONS)]  # exact in float32


def embeddings(request: dict[str, Any]) -> dict[str, Any]:
    inputs = request.get("input")
    items = inputs if isinstance(inputs, list) else [inputs]
    tokens = EMBEDDING_TOKENS_PER_INPUT * len(items)

    def encoded(vector: list[float]) -> Any:
        # The openai SDK asks for base64 (little-endian float32) unless told otherwise.
        if request.get("encoding_format") == "base64":
            return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        return vector

    return {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": encoded(embedding_vector(i))}
                 for i in range(len(items))],
        "model": request.get("model"),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeOpenAI:
    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def requests_for(self, model: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.body.get("model") == model]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _error(message: str, type_: str, code: str | None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _chunk(model: str, delta: dict[str, Any], finish: str | None, usage_null: bool) -> dict[str, Any]:
    chunk: dict[str, Any] = {
        "id": COMPLETION_ID,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    if usage_null:
        chunk["usage"] = None
    return chunk


def stream_events(model: str, include_usage: bool) -> list[dict[str, Any]]:
    events = []
    for index, content in enumerate(CHUNKS):
        delta: dict[str, Any] = {"role": "assistant", "content": content} if index == 0 else {"content": content}
        events.append(_chunk(model, delta, None, include_usage))
    events.append(_chunk(model, {}, "stop", include_usage))
    if include_usage:
        events.append({
            "id": COMPLETION_ID, "object": "chat.completion.chunk", "created": CREATED, "model": model,
            "system_fingerprint": "fp_fake", "choices": [], "usage": USAGE,
        })
    return events


def completion(model: str, request: dict[str, Any]) -> dict[str, Any]:
    tools = request.get("tools") or []
    if tools:
        name = tools[0]["function"]["name"]
        message: dict[str, Any] = {
            "role": "assistant", "content": None, "refusal": None, "annotations": [],
            "tool_calls": [{"id": "call_fake1", "type": "function", "function": {"name": name, "arguments": TOOL_ARGUMENTS}}],
        }
        finish = "tool_calls"
    else:
        message = {"role": "assistant", "content": TEXT, "refusal": None, "annotations": []}
        finish = "stop"
    return {
        "id": COMPLETION_ID, "object": "chat.completion", "created": CREATED, "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": USAGE, "service_tier": "default", "system_fingerprint": "fp_fake",
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeOpenAI  # set on the subclass

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-request-id", "req_upstream_1")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            body = {}
        with self.fake.lock:
            self.fake.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        if self.path == "/v1/embeddings":
            if body.get("model") == "rate-limited":
                self._json(429, _error("Rate limit reached for requests per min (RPM): Limit 3, Used 3, Requested 1.",
                                       "requests", "rate_limit_exceeded"), {"retry-after": RETRY_AFTER})
            else:
                self._json(200, embeddings(body))
            return
        if self.path != "/v1/chat/completions":
            self._json(404, _error(f"Unknown request URL: POST {self.path}", "invalid_request_error", "unknown_url"))
            return
        model = str(body.get("model", ""))
        if model == "rate-limited":
            self._json(429, _error("Rate limit reached for requests per min (RPM): Limit 3, Used 3, Requested 1.",
                                   "requests", "rate_limit_exceeded"),
                       {"retry-after": RETRY_AFTER, "x-ratelimit-remaining-requests": "0"})
            return
        if model == "server-error":
            self._json(500, _error("The server had an error while processing your request. Sorry about that!",
                                   "server_error", None))
            return
        if model == "bad-request":
            self._json(400, _error("Invalid value for 'temperature': expected a number at most 2.",
                                   "invalid_request_error", "invalid_value", "temperature"))
            return
        if not body.get("stream"):
            self._json(200, completion(model, body))
            return
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        lines = [f"data: {json.dumps(event)}\n\n" for event in stream_events(model, include_usage)]
        lines.append("data: [DONE]\n\n")
        for index, line in enumerate(lines):
            if index:
                time.sleep(0.02)  # a buffering proxy would show
            data = line.encode()
            last = index == len(lines) - 1
            if last and model == "slow-eof":
                # [DONE], then the end of the body only later, as a busy upstream may.
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
                time.sleep(0.5)
                data = b""
            # The end of the body in the same write as [DONE], as OpenAI's usually is.
            end = b"0\r\n\r\n" if last else b""
            self.wfile.write((f"{len(data):x}\r\n".encode() + data + b"\r\n" if data else b"") + end)
            self.wfile.flush()


def start() -> FakeOpenAI:
    handler = type("Handler", (_Handler,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    fake = FakeOpenAI(server)
    handler.fake = fake
    threading.Thread(target=server.serve_forever, name="fake-openai", daemon=True).start()
    return fake
