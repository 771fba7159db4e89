"""A fake Gemini API (generativelanguage.googleapis.com v1beta) on a loopback socket, a port of
Tests/LLMLabGatewayTests/Support/FakeGemini.swift, in the documented shapes
(https://ai.google.dev/api/generate-content):

- `POST /v1beta/models/{model}:generateContent` → a `GenerateContentResponse`
  (`candidates[].content.parts`, `finishReason`, `usageMetadata` with `promptTokenCount`
  including `cachedContentTokenCount`, and `thoughtsTokenCount`, `modelVersion`, `responseId`).
- `POST /v1beta/models/{model}:streamGenerateContent?alt=sse` → SSE events
  `data: {GenerateContentResponse}\\r\\n\\r\\n`, each with the usage so far, the last with
  `finishReason` and the final `usageMetadata`; NO end sentinel (the body just ends).
- When the request has `tools`, the answer is a `functionCall` part for the first declared
  function with args FUNCTION_ARGS (`finishReason` STOP, as Gemini reports function calls).
- `modelVersion` is the requested model (as Gemini reports for a stable model id).
- Errors in Google's shape `{"error":{"code","message","status"}}`.

Behaviour by the model in the path:
- `rate-limited`: 429 RESOURCE_EXHAUSTED with `retry-after: 30`
- `server-error`: 500 INTERNAL
- `overloaded`: 503 UNAVAILABLE
- `bad-request`: 400 INVALID_ARGUMENT
- `mid-stream-error` (streaming): one text chunk, then `data: {"error":{...INTERNAL}}`, end
- `broken-stream` (streaming): two chunks, then the connection drops mid-body
- anything else: success

Every request is recorded (path with query, headers such as `x-goog-api-key`, body).
"""

from __future__ import annotations

import json
import time
import urllib.parse
from typing import Any

import fake_http

RESPONSE_ID = "fakeGeminiResponse1"
CHUNK_TEXTS = ["Hel", "lo", " there", "!"]
TEXT = "".join(CHUNK_TEXTS)
FUNCTION_ARGS = {"city": "Paris"}
# Longer than the proxy waits for a same-deployment retry (20 s), so it answers the 429 at
# once (one call upstream) and the suite stays quick; the header must reach the client.
RETRY_AFTER = "30"
CHUNK_INTERVAL = 0.02
# 12 prompt tokens of which 4 cached, 5 candidates, 2 thoughts.
USAGE: dict[str, Any] = {"promptTokenCount": 12, "candidatesTokenCount": 5, "totalTokenCount": 19,
                         "cachedContentTokenCount": 4, "thoughtsTokenCount": 2}
EARLY_USAGE: dict[str, Any] = {"promptTokenCount": 12, "totalTokenCount": 12, "cachedContentTokenCount": 4}

FakeGemini = fake_http.FakeServer


def parse_path(path: str) -> tuple[str, str]:
    """(model, method) of `/v1beta/models/{model}:{method}[?query]`."""
    last = urllib.parse.urlsplit(path).path.rsplit("/", 1)[-1]
    model, _, method = last.rpartition(":")
    return urllib.parse.unquote(model), method


def requests_for(fake: fake_http.FakeServer, model: str) -> list[fake_http.Received]:
    return [r for r in fake.all() if parse_path(r.path)[0] == model]


def error_body(code: int, message: str, status: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


def first_function_name(request: dict[str, Any]) -> str | None:
    for tool in request.get("tools") or []:
        declarations = tool.get("functionDeclarations") or tool.get("function_declarations") or []
        if declarations and declarations[0].get("name"):
            return str(declarations[0]["name"])
    return None


def _response(model: str, parts: list[dict[str, Any]], finish: bool, usage: dict[str, Any]) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}}
    if finish:
        candidate["finishReason"] = "STOP"
    candidate["index"] = 0
    return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model, "responseId": RESPONSE_ID}


def generate(model: str, request: dict[str, Any]) -> dict[str, Any]:
    name = first_function_name(request)
    part = {"functionCall": {"name": name, "args": FUNCTION_ARGS}} if name else {"text": TEXT}
    return _response(model, [part], True, USAGE)


def stream_events(model: str, request: dict[str, Any]) -> list[str]:
    name = first_function_name(request)
    if name:
        responses = [_response(model, [{"text": "Checking."}], False, EARLY_USAGE),
                     _response(model, [{"functionCall": {"name": name, "args": FUNCTION_ARGS}}], True, USAGE)]
    else:
        responses = [_response(model, [{"text": text}], i == len(CHUNK_TEXTS) - 1,
                               USAGE if i == len(CHUNK_TEXTS) - 1 else EARLY_USAGE)
                     for i, text in enumerate(CHUNK_TEXTS)]
    return [f"data: {json.dumps(r, separators=(',', ':'))}\r\n\r\n" for r in responses]


class _Handler(fake_http.Handler):
    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self.send_json(status, payload, headers, content_type="application/json; charset=UTF-8")

    def do_POST(self) -> None:
        received = self.read_request()
        if not urllib.parse.urlsplit(self.path).path.startswith("/v1beta/models/"):
            self._json(404, error_body(404, f"Not found: {self.path}", "NOT_FOUND"))
            return
        model, method = parse_path(self.path)
        if model == "rate-limited":
            self._json(429, error_body(429, "Resource has been exhausted (e.g. check quota).", "RESOURCE_EXHAUSTED"),
                       {"retry-after": RETRY_AFTER})
            return
        if model == "server-error":
            self._json(500, error_body(500, "An internal error has occurred. Please retry or report in "
                                            "https://developers.generativeai.google/guide/troubleshooting", "INTERNAL"))
            return
        if model == "overloaded":
            self._json(503, error_body(503, "The model is overloaded. Please try again later.", "UNAVAILABLE"))
            return
        if model == "bad-request":
            self._json(400, error_body(400, 'Invalid JSON payload received. Unknown name "foo": Cannot find field.',
                                       "INVALID_ARGUMENT"))
            return
        if method == "generateContent":
            self._json(200, generate(model, received.body))
            return
        if method != "streamGenerateContent":
            self._json(404, error_body(404, "Method not found.", "NOT_FOUND"))
            return
        events = stream_events(model, received.body)
        self.start_chunked("text/event-stream")
        if model == "broken-stream":
            self.write_chunk(events[0] + events[1])
            self.drop_connection()
            return
        if model == "mid-stream-error":
            self.write_chunk(events[0])
            error = json.dumps(error_body(500, "An internal error has occurred.", "INTERNAL"))
            self.write_chunk(f"data: {error}\r\n\r\n")
            self.end_chunks()
            return
        for index, event in enumerate(events):
            if index:
                time.sleep(CHUNK_INTERVAL)
            self.write_chunk(event)
        self.end_chunks()


def start() -> fake_http.FakeServer:
    return fake_http.start(_Handler, "fake-gemini")
