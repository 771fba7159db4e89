#!/usr/bin/env python3
"""SDK decorator overhead (`make bench-ingest` runs it): what `@llmlab.trace` costs per call
on top of a bare OpenTelemetry span, on the same TracerProvider.

The provider is the one `llmlab.init` builds (LLMLabSpanProcessor + a SimpleSpanProcessor)
with an exporter that discards every span in memory: nothing goes over the network, and
both the bare span and the decorator pay the same processor cost, so the difference is the
decorator's own work (capture policy, argument binding, JSON serialisation of arguments
and result, attribute setting, context handling).

Variants, each N calls of the same trivial function `work(x, y=2) -> x + y`:
  baseline          the undecorated function
  bare span         `with tracer.start_as_current_span("work"): work(...)`
  @llmlab.trace     default capture policy (LLMLAB_CAPTURE, else "full")
  capture=metadata  argument names and types only
  capture="none"    no arguments or result
Every repeat runs all variants in turn (interleaved, so drift hits all alike); the figure
per variant is the median over repeats of (loop time / N). Overhead = decorated − bare.

    .venv/bin/python ops/bench/sdk_overhead.py [--calls 100000] [--repeats 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import llmlab
from llmlab import _config
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult


class DiscardExporter(SpanExporter):
    """Takes every span and drops it (counts them, to prove spans were made)."""

    def __init__(self) -> None:
        self.count = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.count += len(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def work(x: int, y: int = 2) -> int:
    return x + y


def timed(fn: Callable[..., Any], calls: int) -> float:
    """Seconds per call of fn(i) over `calls` calls."""
    start = time.perf_counter_ns()
    for i in range(calls):
        fn(i)
    return (time.perf_counter_ns() - start) / 1e9 / calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--build-config", default="n/a", help="label only (the SDK is pure Python)")
    args = parser.parse_args()
    if args.calls < 1 or args.repeats < 1:
        parser.error("--calls and --repeats must be at least 1")

    exporter = DiscardExporter()
    provider = llmlab.init(exporter=exporter, batch=False, set_global=False, service_name="sdk-overhead-bench")
    default_policy = _config.settings().capture
    tracer = provider.get_tracer("bench-bare")

    def bare(x: int, y: int = 2) -> int:
        with tracer.start_as_current_span("work"):
            return work(x, y)

    variants: dict[str, Callable[..., Any]] = {
        "baseline (no span)": work,
        "bare OTel span": bare,
        f"@llmlab.trace (default capture: {default_policy})": llmlab.trace(name="work")(work),
        "@llmlab.trace(capture='metadata')": llmlab.trace(name="work", capture="metadata")(work),
        "@llmlab.trace(capture='none')": llmlab.trace(name="work", capture="none")(work),
    }
    # Warm up every path (imports, caches, first-call costs).
    for fn in variants.values():
        timed(fn, min(args.calls, 2_000))

    samples: dict[str, list[float]] = {name: [] for name in variants}
    began = time.perf_counter()
    for _ in range(args.repeats):
        for name, fn in variants.items():
            samples[name].append(timed(fn, args.calls))
    runtime = time.perf_counter() - began

    median_us = {name: statistics.median(values) * 1e6 for name, values in samples.items()}
    names = list(variants)
    baseline, bare_us = median_us[names[0]], median_us[names[1]]
    rows = []
    for name in names:
        us = median_us[name]
        rows.append({
            "variant": name,
            "median_us_per_call": round(us, 3),
            "min_us": round(min(samples[name]) * 1e6, 3),
            "max_us": round(max(samples[name]) * 1e6, 3),
            "over_baseline_us": round(us - baseline, 3),
            "over_bare_span_us": None if name == names[0] else round(us - bare_us, 3),
        })

    print(f"SDK decorator overhead — {args.calls} calls × {args.repeats} repeats per variant, median µs per call")
    print(f"Python {platform.python_version()}, opentelemetry-sdk provider from llmlab.init with a discarding exporter (no network); "
          f"load average at start {os.getloadavg()[0]:.2f}")
    print(f"{'variant':<44} {'µs/call':>8} {'min':>7} {'max':>7} {'− bare span':>11}")
    for row in rows:
        over = "" if row["over_bare_span_us"] is None else f"{row['over_bare_span_us']:+.2f}"
        print(f"{row['variant']:<44} {row['median_us_per_call']:>8.2f} {row['min_us']:>7.2f} {row['max_us']:>7.2f} {over:>11}")
    verdict = ", ".join(f"{label} {row['over_bare_span_us']:.2f} µs ({'met' if row['over_bare_span_us'] <= 20 else 'NOT met'})"
                        for label, row in (("default", rows[2]), ("metadata", rows[3]), ("none", rows[4])))
    print(f"decorator overhead per span vs a bare OTel span (target ≤ 20 µs; measured, not asserted): {verdict}")
    spans_made = exporter.count
    print(f"spans made and discarded: {spans_made}; runtime {runtime:.1f} s")

    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({
                "calls": args.calls, "repeats": args.repeats, "python": platform.python_version(),
                "default_capture": default_policy, "rows": rows, "spans_discarded": spans_made,
                "runtime_seconds": round(runtime, 1), "load_average_at_start": os.getloadavg()[0],
                "method": "same llmlab.init TracerProvider (LLMLabSpanProcessor + SimpleSpanProcessor with an in-memory discarding exporter); "
                          "per-call time = loop time / calls; median over repeats; overhead = decorated − bare OTel span",
            }, handle, indent=2)
    llmlab.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
