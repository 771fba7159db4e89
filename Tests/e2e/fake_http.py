"""What the fake upstreams share: a threaded loopback HTTP/1.1 server that records every
request, and a handler with JSON answers and chunked (SSE) bodies. stdlib only."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str  # with the query, e.g. /v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse
    headers: dict[str, str]  # lower-cased names
    body: dict[str, Any]


@dataclass
class FakeServer:
    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def record(self, received: Received) -> None:
        with self.lock:
            self.received.append(received)

    def all(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeServer  # set on the subclass by start()

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def read_request(self) -> Received:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            body = {}
        received = Received(self.path, {k.lower(): v for k, v in self.headers.items()},
                            body if isinstance(body, dict) else {})
        self.fake.record(received)
        return received

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None, *,
                  content_type: str = "application/json", reason: str | None = None) -> None:
        data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
        self.send_response(status, reason)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def start_chunked(self, content_type: str = "text/event-stream; charset=utf-8",
                      headers: dict[str, str] | None = None) -> None:
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.flush()

    def write_chunk(self, text: str) -> None:
        data = text.encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def end_chunks(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def drop_connection(self) -> None:
        """Ends the connection mid-body (no terminating chunk), as a failing upstream may."""
        self.close_connection = True
        self.wfile.flush()
        try:
            self.connection.shutdown(2)
        except OSError:
            pass


def start(handler: type[Handler], name: str) -> FakeServer:
    cls = type(handler.__name__, (handler,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), cls)
    server.daemon_threads = True
    fake = FakeServer(server)
    cls.fake = fake
    threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
    return fake
