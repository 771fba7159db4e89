# LLMLab — the two commands are `make run` and `make test`.
SHELL := /bin/bash
CONFIG ?= debug
SWIFT_BUILD_FLAGS ?=
BIN = $(shell swift build -c $(CONFIG) --show-bin-path 2>/dev/null)

.PHONY: run test deps build proto proto-check test-swift test-e2e test-python test-sdk bench-control bench-proxy bench-ingest bench-dashboard bench-alerts clean

## Install missing system packages, build, and start the server with its embedded database.
run: deps build
	@ops/scripts/run-server.sh "$(BIN)"

## Install what the tests need, check generated code, build, and run every test.
test: deps proto-check test-swift test-e2e test-python test-sdk

deps:
	@ops/scripts/install-deps.sh

build:
	swift build -c $(CONFIG) $(SWIFT_BUILD_FLAGS) --product llmlab-server
	swift build -c $(CONFIG) $(SWIFT_BUILD_FLAGS) --product llmlab-admin

## Regenerate Sources/LLMLabProto from Proto/.
proto: deps
	ops/proto/generate.sh

proto-check:
	ops/proto/generate.sh --check

test-swift:
	swift build --build-tests
	swift test --skip-build --parallel 2>&1 | tee .build/swift-test.log; exit $${PIPESTATUS[0]}

test-e2e: build
	ops/scripts/e2e.sh "$(BIN)"

## End-to-end tests with the official Python clients (pytest in .venv) against the built
## server and a fake upstream, plus the dashboard in headless Chromium (Debian's chromium and
## chromium-driver, driven by selenium; screenshots land in .build/artifacts/dashboard).
## pytest exits non-zero (5) if it collects no tests.
test-python: build
	@ops/scripts/install-deps.sh python3-venv chromium chromium-driver fonts-liberation
	@[ -x .venv/bin/python ] || python3 -m venv .venv
	.venv/bin/pip install -q --disable-pip-version-check -r Tests/e2e/requirements.txt
	PYTHONDONTWRITEBYTECODE=1 LLMLAB_BIN="$(BIN)" .venv/bin/pytest -q Tests/e2e

## Python SDK (sdks/python): installs it from the repo (its control-plane stubs are generated
## from Proto/ at build time) with the openai/anthropic/recipe extras into .venv, then pytest.
test-sdk:
	@ops/scripts/install-deps.sh python3-venv
	@[ -x .venv/bin/python ] || python3 -m venv .venv
	.venv/bin/pip install -q --disable-pip-version-check -c sdks/python/constraints.txt "./sdks/python[dev,grpc,openai,anthropic,recipes]"
	PYTHONDONTWRITEBYTECODE=1 .venv/bin/pytest -q sdks/python/tests

## Control-plane benchmarks (release build): login latency and ListProjects throughput.
bench-control: deps
	ops/bench/control.sh

## Proxy benchmark (release build): latency the proxy adds (proxy − direct) at 1/16/64
## clients with a fake upstream (0 and 20 ms think time), max non-streaming RPS, server RSS.
bench-proxy: deps
	ops/bench/proxy.sh

## OTLP ingest benchmark (release build): sustained spans/s into PostgreSQL over HTTP
## (protobuf, gzip) and gRPC at 1/4/8 exporters, export p50/p99, server CPU/RSS; and the
## Python SDK's @llmlab.trace overhead per span against a bare OTel span.
bench-ingest: deps
	ops/bench/ingest.sh

## Dashboard benchmark (release build): every /ui page's server time and the analytics RPCs
## with 10M usage events and 1M spans generated into one tenant (BENCH_EVENTS/BENCH_TRACES).
bench-dashboard: deps
	ops/bench/dashboard.sh

## Alert lag benchmark (release build): time from the proxy response whose usage crosses a
## budget threshold to the webhook receiving the alert, median and max over several crossings.
bench-alerts: deps
	ops/bench/alerts.sh

clean:
	rm -rf .build
