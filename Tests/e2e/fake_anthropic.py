"""A fake Anthropic Messages API (`POST /v1/messages`) on a loopback socket, a port of
Tests/LLMLabGatewayTests/Support/FakeAnthropic.swift, in the documented shapes
(https://docs.anthropic.com/en/api/messages, "Streaming Messages", "Errors"):

- a JSON `message` with `usage` {input_tokens, output_tokens, cache_creation_input_tokens,
  cache_read_input_tokens, cache_creation: {ephemeral_5m_input_tokens,
  ephemeral_1h_input_tokens}};
- with `"stream": true`, SSE events `message_start` (the input counts and
  `output_tokens: 1`), `content_block_start`, `ping`, `content_block_delta` (`text_delta`,
  or `input_json_delta` for tool_use), `content_block_stop`, `message_delta` (stop_reason
  and the cumulative `usage.output_tokens`), `message_stop`;
- a `tool_use` answer (a text block, then the request's first tool called with
  `{"location":"San Francisco, CA"}`, stop_reason `tool_use`) when the request has a
  non-empty `tools` array — unless the last user turn carries a `tool_result`, which is
  answered with the text FINAL_TEXT (as the real API finishes a tool round trip);
- errors as `{"type":"error","error":{"type","message"},"request_id"}`.

What it does depends on the requested model:

- `rate-limited`: 429 `rate_limit_error` with `retry-after: 30`
- `overloaded`: 529 `overloaded_error`
- `server-error`: 500 `api_error`
- `bad-request`: 400 `invalid_request_error`
- `mid-stream-error` (streaming): the stream starts, then `event: error` with
  `overloaded_error` and the body ends (no `message_stop`)
- `broken-stream` (streaming): `message_start`, `content_block_start`, then the connection drops
- anything else: success ("Hello there!"), reporting the requested model

Every request is recorded (path, headers such as `x-api-key` and `anthropic-version`, body).
"""

from __future__ import annotations

import json
import time
from typing import Any

import fake_http

MESSAGE_ID = "msg_fake01XFDUDYJgAACzvnptvVoYEL"
TOOL_USE_ID = "toolu_fake01A09q90qw90lq917835"
TEXT_PIECES = ["Hel", "lo", " there", "!"]
TEXT = "".join(TEXT_PIECES)
TOOL_PREAMBLE = "Let me check."
TOOL_INPUT = {"location": "San Francisco, CA"}
TOOL_INPUT_PIECES = ['{"location":', ' "San Francisco, CA"}']
FINAL_TEXT = "It is 18 degrees and sunny in San Francisco."
# Longer than the proxy waits for a same-deployment retry (20 s), so it answers the 429 at
# once (one call upstream) and the suite stays quick; the header must reach the client.
RETRY_AFTER = "30"
EVENT_INTERVAL = 0.02  # a buffering proxy would show
# 12 uncached + 4 read + 6 written (2 for 5 minutes, 4 for an hour) in, 5 out.
USAGE: dict[str, Any] = {
    "input_tokens": 12, "cache_creation_input_tokens": 6, "cache_read_input_tokens": 4,
    "cache_creation": {"ephemeral_5m_input_tokens": 2, "ephemeral_1h_input_tokens": 4},
    "output_tokens": 5, "service_tier": "standard",
}
STREAM_START_USAGE: dict[str, Any] = {**USAGE, "output_tokens": 1}
FINAL_OUTPUT_TOKENS = 5

FakeAnthropic = fake_http.FakeServer


def requests_for(fake: fake_http.FakeServer, model: str) -> list[fake_http.Received]:
    return [r for r in fake.all() if r.body.get("model") == model]


def error_body(type_: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": type_, "message": message},
            "request_id": "req_fake_011CSHoEeqs5C35K2UUqR7Fy"}


def _answers_tool_result(request: dict[str, Any]) -> bool:
    messages = request.get("messages") or []
    if not messages or messages[-1].get("role") != "user":
        return False
    content = messages[-1].get("content")
    return isinstance(content, list) and any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content)


def _tool_name(request: dict[str, Any], model: str) -> str | None:
    if _answers_tool_result(request):
        return None
    tools = request.get("tools") or []
    if tools and isinstance(tools[0], dict) and tools[0].get("name"):
        return str(tools[0]["name"])
    return "get_weather" if model == "tool-call" else None


def message(model: str, request: dict[str, Any]) -> dict[str, Any]:
    tool = _tool_name(request, model)
    if tool:
        content: list[dict[str, Any]] = [{"type": "text", "text": TOOL_PREAMBLE},
                                         {"type": "tool_use", "id": TOOL_USE_ID, "name": tool, "input": TOOL_INPUT}]
        stop = "tool_use"
    else:
        content = [{"type": "text", "text": FINAL_TEXT if _answers_tool_result(request) else TEXT}]
        stop = "end_turn"
    return {"id": MESSAGE_ID, "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": stop, "stop_sequence": None, "usage": USAGE}


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def stream_events(model: str, request: dict[str, Any]) -> list[str]:
    tool = _tool_name(request, model)
    events = [
        _event("message_start", {"type": "message_start", "message": {
            "id": MESSAGE_ID, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": STREAM_START_USAGE}}),
        _event("content_block_start", {"type": "content_block_start", "index": 0,
                                       "content_block": {"type": "text", "text": ""}}),
        "event: ping\ndata: {\"type\": \"ping\"}\n\n",
    ]
    pieces = TEXT_PIECES if tool is None else [TOOL_PREAMBLE]
    if tool is None and _answers_tool_result(request):
        pieces = [FINAL_TEXT]
    for piece in pieces:
        events.append(_event("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                     "delta": {"type": "text_delta", "text": piece}}))
    events.append(_event("content_block_stop", {"type": "content_block_stop", "index": 0}))
    if tool:
        events.append(_event("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {
            "type": "tool_use", "id": TOOL_USE_ID, "name": tool, "input": {}}}))
        for piece in ["", *TOOL_INPUT_PIECES]:
            events.append(_event("content_block_delta", {"type": "content_block_delta", "index": 1,
                                                         "delta": {"type": "input_json_delta", "partial_json": piece}}))
        events.append(_event("content_block_stop", {"type": "content_block_stop", "index": 1}))
    events.append(_event("message_delta", {"type": "message_delta",
                                           "delta": {"stop_reason": "tool_use" if tool else "end_turn",
                                                     "stop_sequence": None},
                                           "usage": {"output_tokens": FINAL_OUTPUT_TOKENS}}))
    events.append(_event("message_stop", {"type": "message_stop"}))
    return events


class _Handler(fake_http.Handler):
    def do_POST(self) -> None:
        received = self.read_request()
        if self.path != "/v1/messages":
            self.send_json(404, error_body("not_found_error", f"Not Found: {self.path}"))
            return
        body = received.body
        model = str(body.get("model", ""))
        if model == "rate-limited":
            self.send_json(429, error_body(
                "rate_limit_error",
                "Number of request tokens has exceeded your per-minute rate limit "
                "(https://docs.anthropic.com/en/api/rate-limits); see the response headers for current usage. "
                "Please reduce the prompt length or the maximum tokens requested, or try again later."),
                {"retry-after": RETRY_AFTER, "anthropic-ratelimit-requests-remaining": "0"})
            return
        if model == "overloaded":
            self.send_json(529, error_body("overloaded_error", "Overloaded"), reason="Overloaded")
            return
        if model == "server-error":
            self.send_json(500, error_body("api_error", "Internal server error"))
            return
        if model == "bad-request":
            self.send_json(400, error_body(
                "invalid_request_error",
                'messages: roles must alternate between "user" and "assistant", '
                'but found multiple "user" roles in a row'))
            return
        if not body.get("stream"):
            self.send_json(200, message(model, body), {"request-id": "req_fake_upstream_1"})
            return
        events = stream_events(model, body)
        self.start_chunked()
        if model == "broken-stream":
            self.write_chunk(events[0] + events[1])
            self.drop_connection()
            return
        if model == "mid-stream-error":
            for event in events[:4]:
                self.write_chunk(event)
            time.sleep(EVENT_INTERVAL)
            self.write_chunk(_event("error", {"type": "error",
                                              "error": {"type": "overloaded_error", "message": "Overloaded"}}))
            self.end_chunks()
            return
        for index, event in enumerate(events):
            if index:
                time.sleep(EVENT_INTERVAL)
            self.write_chunk(event)
        self.end_chunks()


def start() -> fake_http.FakeServer:
    return fake_http.start(_Handler, "fake-anthropic")
