"""Session fixtures: fake OpenAI, Anthropic and Gemini upstreams, the built llmlab-server
pointed at them (temp LLMLAB_HOME, free ports), and a tenant, projects, provider keys and
proxy keys made with the built llmlab-admin, the way a user does:

- project "Proxy e2e" (OpenAI only; `proxy_key`, `control_key`), used by test_openai_proxy.py;
- project "Providers e2e" (OpenAI, Anthropic and Gemini keys; `multi_key`), used by the
  Anthropic / Gemini / embeddings tests, so their usage events stay apart;
- project "Anthropic only" (Anthropic key only; `anthropic_only_key`);
- for test_tracing.py (the `tracing` fixture, made on first use): project "Tracing e2e"
  (OpenAI key; `ingest_key`, `proxy_key` and a project `control_key`), project
  "Capture e2e" (content capture toggled by the tests) and a second tenant "globex" with
  a control key of its own.

The server runs with `--max-trace-bytes MAX_TRACE_BYTES` so the 413 test stays small.

BIN dir: $LLMLAB_BIN, else `swift build --show-bin-path`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import fake_anthropic
import fake_gemini
import fake_http
import fake_openai

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
PROVIDER_SECRET = "sk-e2e-proxy-secret-abcdwxyz"
ANTHROPIC_SECRET = "sk-ant-e2e-secret-qrstuvwxyz0123"
GEMINI_SECRET = "AIzaE2eGeminiSecret-0123456789abc"
# OTLP/HTTP export limit the server is started with (its default is 8 MiB).
MAX_TRACE_BYTES = 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bin_dir() -> Path:
    if env := os.environ.get("LLMLAB_BIN"):
        return Path(env)
    out = subprocess.run(["swift", "build", "--show-bin-path"], cwd=REPO, capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


@dataclass
class Stack:
    fake: fake_openai.FakeOpenAI
    anthropic: fake_http.FakeServer
    gemini: fake_http.FakeServer
    admin_path: Path
    env: dict[str, str]
    http_port: int
    grpc_port: int = 0
    project_id: str = ""
    proxy_key: str = ""
    control_key: str = ""
    multi_project_id: str = ""
    multi_key: str = ""
    anthropic_only_key: str = ""
    # x-llmlab-request-id of every proxy call that reached the provider (and so was metered).
    metered: dict[str, str] = field(default_factory=dict)
    # The same for project "Providers e2e": request id → (provider, expected cost, "" for an error).
    multi_metered: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        """For the openai SDK (it appends /chat/completions)."""
        return f"http://127.0.0.1:{self.http_port}/v1"

    @property
    def root_url(self) -> str:
        """For the anthropic SDK (it appends /v1/messages)."""
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def home(self) -> Path:
        return Path(self.env["LLMLAB_HOME"])

    def admin(self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
        out = subprocess.run([str(self.admin_path), *args], env=env or self.env, input=stdin, capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 0, f"llmlab-admin {' '.join(args)} exited {out.returncode}: {out.stdout}{out.stderr}"
        return out.stdout

    def admin_json(self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Any:
        return json.loads(self.admin(*args, "--json", stdin=stdin, env=env))

    def admin_run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """llmlab-admin without the exit-status check (for the refusals)."""
        return subprocess.run([str(self.admin_path), *args], env=env or self.env, capture_output=True, text=True,
                              timeout=60)


def _wait_healthy(proc: subprocess.Popen[bytes], admin: Path, env: dict[str, str], http_port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        ok = subprocess.run([str(admin), "health"], env=env, capture_output=True, timeout=30).returncode == 0
        if ok:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/healthz", timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
        time.sleep(0.2)
    pytest.fail(f"llmlab-server did not become healthy (exit {proc.poll()}); log:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    bins = bin_dir()
    server, admin = bins / "llmlab-server", bins / "llmlab-admin"
    for b in (server, admin):
        assert os.access(b, os.X_OK), f"{b} is not built (make build)"
    work = Path(tempfile.mkdtemp(prefix="llmlab-pytest."))
    fake = fake_openai.start()
    anthropic, gemini = fake_anthropic.start(), fake_gemini.start()
    fakes = (fake, anthropic, gemini)
    grpc_port, http_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMLAB_")}
    env.update(LLMLAB_HOME=str(work / "home"), HOME=str(work / "user"), LLMLAB_ADDRESS=f"127.0.0.1:{grpc_port}")
    (work / "user").mkdir()
    log = work / "server.log"
    try:
        with log.open("wb") as log_file:
            proc = subprocess.Popen(
                [str(server), "--grpc-address", f"127.0.0.1:{grpc_port}", "--http-address", f"127.0.0.1:{http_port}",
                 "--openai-base-url", f"http://127.0.0.1:{fake.port}/v1",
                 "--anthropic-base-url", f"http://127.0.0.1:{anthropic.port}/v1",
                 "--gemini-base-url", f"http://127.0.0.1:{gemini.port}/v1beta",
                 "--max-trace-bytes", str(MAX_TRACE_BYTES)],
                env=env, stdout=log_file, stderr=subprocess.STDOUT)
    except BaseException:
        for f in fakes:
            f.close()
        shutil.rmtree(work, ignore_errors=True)
        raise
    st = Stack(fake=fake, anthropic=anthropic, gemini=gemini, admin_path=admin, env=env, http_port=http_port,
               grpc_port=grpc_port)
    try:
        _wait_healthy(proc, admin, env, http_port, log)
        st.admin("tenant", "create", "acme", "--name", "Acme Inc", "--owner-email", "ada@acme.example", stdin=PASSWORD + "\n")
        st.admin("login", "--tenant", "acme", "--email", "ada@acme.example", stdin=PASSWORD + "\n")
        st.project_id = st.admin_json("project", "create", "Proxy e2e", "--providers", "openai")["id"]
        st.admin("key", "put", "--project", st.project_id, "--provider", "openai", stdin=PROVIDER_SECRET + "\n")
        st.proxy_key = st.admin_json("apikey", "create", "sdk", "--role", "member", "--project", st.project_id,
                                     "--scopes", "proxy")["secret"]
        st.control_key = st.admin_json("apikey", "create", "control-only", "--role", "member", "--project",
                                       st.project_id, "--scopes", "control")["secret"]
        st.multi_project_id = st.admin_json("project", "create", "Providers e2e",
                                            "--providers", "openai,anthropic,gemini")["id"]
        for provider, secret in (("openai", PROVIDER_SECRET), ("anthropic", ANTHROPIC_SECRET),
                                 ("gemini", GEMINI_SECRET)):
            st.admin("key", "put", "--project", st.multi_project_id, "--provider", provider, stdin=secret + "\n")
        st.multi_key = st.admin_json("apikey", "create", "sdk-multi", "--role", "member", "--project",
                                     st.multi_project_id, "--scopes", "proxy")["secret"]
        only = st.admin_json("project", "create", "Anthropic only", "--providers", "anthropic")["id"]
        st.admin("key", "put", "--project", only, "--provider", "anthropic", stdin=ANTHROPIC_SECRET + "\n")
        st.anthropic_only_key = st.admin_json("apikey", "create", "sdk-anthropic-only", "--role", "member",
                                              "--project", only, "--scopes", "proxy")["secret"]
        yield st
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                code = None
        else:
            code = proc.returncode
        for f in fakes:
            f.close()
        text = log.read_text(errors="replace")
        shutil.rmtree(work, ignore_errors=True)
        assert code == 0, f"llmlab-server exited {code} after SIGTERM; log tail:\n{text[-4000:]}"
        for secret in (PROVIDER_SECRET, ANTHROPIC_SECRET, GEMINI_SECRET):
            assert secret not in text, "a provider secret reached the server log"


@dataclass
class Tracing:
    """What test_tracing.py works with (see the module docstring)."""
    project_id: str
    ingest_key: str
    proxy_key: str
    control_key: str
    capture_project_id: str
    capture_ingest_key: str
    # The second tenant: llmlab-admin's environment logged in as its owner, and a tenant-wide
    # control key.
    other_env: dict[str, str]
    other_control_key: str


@pytest.fixture(scope="session")
def tracing(stack: Stack) -> Tracing:
    project = stack.admin_json("project", "create", "Tracing e2e", "--providers", "openai")["id"]
    stack.admin("key", "put", "--project", project, "--provider", "openai", stdin=PROVIDER_SECRET + "\n")

    def key(name: str, scopes: str, project_id: str = project) -> str:
        return str(stack.admin_json("apikey", "create", name, "--role", "member", "--project", project_id,
                                    "--scopes", scopes)["secret"])

    capture = stack.admin_json("project", "create", "Capture e2e", "--providers", "openai")["id"]
    operator = (stack.home / "operator.token").read_text().strip()
    stack.admin("tenant", "create", "globex", "--name", "Globex Corp", "--owner-email", "hank@globex.example",
                "--token", operator, stdin=PASSWORD + "\n")
    other_home = Path(stack.env["HOME"]).parent / "user-globex"
    other_home.mkdir()
    other_env = dict(stack.env, HOME=str(other_home))
    stack.admin("login", "--tenant", "globex", "--email", "hank@globex.example", stdin=PASSWORD + "\n", env=other_env)
    other_key = stack.admin_json("apikey", "create", "globex-control", "--role", "member", "--scopes", "control",
                                 env=other_env)["secret"]
    return Tracing(project_id=project, ingest_key=key("otel", "ingest"), proxy_key=key("traced-proxy", "proxy"),
                   control_key=key("trace-reader", "control"), capture_project_id=capture,
                   capture_ingest_key=key("otel-capture", "ingest", capture), other_env=other_env,
                   other_control_key=str(other_key))
