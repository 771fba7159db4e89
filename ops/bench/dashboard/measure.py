"""Dashboard benchmark driver (run by ops/bench/dashboard.sh): logs in to /ui like a
browser (login form, CSRF field, session cookie), requests every dashboard page several
times and reads the server's own time from the `Server-Timing: app;dur=<ms>` header, then
times AnalyticsService RPCs (QueryCost, TopN, Forecast, ModelHealth) and TraceQueryService
ListTraces over the gRPC listener (client-observed, so an upper bound of the server time).

Prints a table and writes a JSON report. Figures are measured, never asserted."""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import html.parser
import json
import re
import statistics
import sys
import time
import urllib.parse
from pathlib import Path


class FormFields(html.parser.HTMLParser):
    """Collects the hidden inputs of the first form whose action matches."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.fields = action, False, {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form" and (values.get("action") or "").startswith(self.action):
            self.inside = True
        elif tag == "input" and self.inside and values.get("type") == "hidden" and values.get("name"):
            self.fields[values["name"]] = values.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


class Browser:
    """A cookie-keeping HTTP/1.1 client on one keep-alive connection."""

    def __init__(self, address: str) -> None:
        host, port = address.rsplit(":", 1)
        self.connection = http.client.HTTPConnection(host, int(port), timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict[str, str] | None = None) -> tuple[int, dict[str, str], str, float]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        self.connection.request(method, path, body=data, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        elapsed = (time.perf_counter() - started) * 1000
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, val = pair.partition("=")
                if val:
                    self.cookies[key.strip()] = val.strip()
                else:
                    self.cookies.pop(key.strip(), None)
        return response.status, {k.lower(): v for k, v in response.getheaders()}, text, elapsed


def server_ms(headers: dict[str, str]) -> float | None:
    match = re.search(r"app;dur=([0-9.]+)", headers.get("server-timing", ""))
    return float(match.group(1)) if match else None


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"n": len(ordered), "median": round(statistics.median(ordered), 2),
            "p95": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2), "max": round(ordered[-1], 2)}


def login(browser: Browser, tenant: str, email: str, password: str) -> None:
    status, _, page, _ = browser.request("GET", "/ui/login")
    if status != 200:
        raise SystemExit(f"GET /ui/login answered {status}")
    form = FormFields("/ui/login")
    form.feed(page)
    fields = dict(form.fields, tenant=tenant, email=email, password=password)
    status, headers, _, _ = browser.request("POST", "/ui/login", fields)
    if status not in (302, 303) or "/ui/login" in headers.get("location", "/ui/login"):
        raise SystemExit(f"dashboard login failed: {status} {headers.get('location', '')}")


def measure_pages(browser: Browser, paths: list[str], repeats: int) -> dict[str, dict[str, object]]:
    results: dict[str, dict[str, object]] = {}
    for path in paths:
        server, client = [], []
        for attempt in range(repeats + 1):
            status, headers, _, elapsed = browser.request("GET", path)
            if status != 200:
                raise SystemExit(f"GET {path} answered {status}")
            timing = server_ms(headers)
            if timing is None:
                raise SystemExit(f"GET {path} has no Server-Timing app;dur header")
            if attempt == 0:
                continue  # the first request warms caches and the connection pool
            server.append(timing)
            client.append(elapsed)
        results[path] = {"server_ms": summary(server), "client_ms": summary(client)}
    return results


def measure_rpcs(target: str, ca_file: str, tenant: str, email: str, password: str, repeats: int,
                 project_id: str) -> dict[str, dict[str, object]]:
    import grpc
    from google.protobuf.timestamp_pb2 import Timestamp
    from llmlab.v1 import analytics_pb2 as analytics, analytics_pb2_grpc as analytics_grpc
    from llmlab.v1 import auth_pb2 as auth, auth_pb2_grpc as auth_grpc
    from llmlab.v1 import trace_pb2 as trace, trace_pb2_grpc as trace_grpc

    channel = grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=Path(ca_file).read_bytes()))
    token = auth_grpc.AuthServiceStub(channel).Login(auth.LoginRequest(tenant=tenant, email=email, password=password)).session_token
    metadata = (("authorization", f"Bearer {token}"),)
    stub = analytics_grpc.AnalyticsServiceStub(channel)
    traces = trace_grpc.TraceQueryServiceStub(channel)
    # The analytics API answers whole UTC hours: the window ends at the next hour.
    now = dt.datetime.now(dt.timezone.utc).replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)

    def window(days: int) -> analytics.AnalyticsFilter:
        since, until = Timestamp(), Timestamp()
        since.FromDatetime(now - dt.timedelta(days=days))
        until.FromDatetime(now)
        return analytics.AnalyticsFilter(since=since, until=until)

    def days(count: int) -> analytics.AnalyticsFilter:
        """Whole UTC days ending now: cost by user is kept per day."""
        since, until = Timestamp(), Timestamp()
        since.FromDatetime((now - dt.timedelta(days=count)).replace(hour=0))
        until.FromDatetime(now)
        return analytics.AnalyticsFilter(since=since, until=until)

    D = analytics.AnalyticsDimension
    project_filter = window(30)
    project_filter.project_id = project_id
    calls = {
        "QueryCost 30d by day×model": lambda: stub.QueryCost(analytics.QueryCostRequest(
            filter=window(30), group_by=[D.ANALYTICS_DIMENSION_DAY, D.ANALYTICS_DIMENSION_MODEL]), metadata=metadata),
        "QueryCost 90d by day×project×model": lambda: stub.QueryCost(analytics.QueryCostRequest(
            filter=window(90), group_by=[D.ANALYTICS_DIMENSION_DAY, D.ANALYTICS_DIMENSION_PROJECT, D.ANALYTICS_DIMENSION_MODEL]),
            metadata=metadata),
        "QueryCost 7d by hour×provider": lambda: stub.QueryCost(analytics.QueryCostRequest(
            filter=window(7), group_by=[D.ANALYTICS_DIMENSION_HOUR, D.ANALYTICS_DIMENSION_PROVIDER]), metadata=metadata),
        "QueryCost 30d one project by key": lambda: stub.QueryCost(analytics.QueryCostRequest(
            filter=project_filter, group_by=[D.ANALYTICS_DIMENSION_API_KEY]), metadata=metadata),
        "QueryCost 30d by user": lambda: stub.QueryCost(analytics.QueryCostRequest(
            filter=days(30), group_by=[D.ANALYTICS_DIMENSION_USER]), metadata=metadata),
        "TopN 30d users": lambda: stub.TopN(analytics.TopNRequest(
            filter=days(30), dimension=D.ANALYTICS_DIMENSION_USER, limit=10), metadata=metadata),
        "TopN 30d models": lambda: stub.TopN(analytics.TopNRequest(
            filter=window(30), dimension=D.ANALYTICS_DIMENSION_MODEL, limit=10), metadata=metadata),
        "Forecast all projects": lambda: stub.Forecast(analytics.ForecastRequest(), metadata=metadata),
        "ModelHealth 7d": lambda: stub.ModelHealth(analytics.ModelHealthRequest(filter=window(7)), metadata=metadata),
        "ListTraces newest 50": lambda: traces.ListTraces(trace.ListTracesRequest(page_size=50), metadata=metadata),
        "ListTraces errors only": lambda: traces.ListTraces(trace.ListTracesRequest(
            page_size=50, status=trace.TRACE_STATUS_ERROR), metadata=metadata),
    }
    results: dict[str, dict[str, object]] = {}
    for name, call in calls.items():
        samples = []
        for attempt in range(repeats + 1):
            started = time.perf_counter()
            call()
            if attempt:
                samples.append((time.perf_counter() - started) * 1000)
        results[name] = {"client_ms": summary(samples)}
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--http-address", required=True)
    parser.add_argument("--grpc-address", required=True)
    parser.add_argument("--ca-file", required=True)
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--password-file", required=True)
    parser.add_argument("--project-id", required=True)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--json", required=True)
    parser.add_argument("--meta", default="{}", help="JSON merged into the report (data sizes, build)")
    args = parser.parse_args()
    password = Path(args.password_file).read_text().strip()

    browser = Browser(args.http_address)
    login(browser, args.tenant, args.email, password)
    status, _, listing, _ = browser.request("GET", "/ui/traces")
    trace_ids = re.findall(r'href="/ui/traces/([0-9a-f]{32})"', listing)
    if status != 200 or not trace_ids:
        raise SystemExit("the traces page lists no trace to open")
    pages = ["/ui", "/ui/cost", "/ui/cost?range=90d&by=project&granularity=day",
             "/ui/cost?range=7d&by=model&granularity=hour", "/ui/cost?range=30d&by=user&granularity=day",
             "/ui/models", "/ui/traces", "/ui/traces?status=error", f"/ui/traces/{trace_ids[0]}", "/ui/alerts",
             "/ui/settings/projects", "/ui/settings/keys", "/ui/settings/routes"]
    page_results = measure_pages(browser, pages, args.repeats)
    rpc_results = measure_rpcs(args.grpc_address, args.ca_file, args.tenant, args.email, password, args.repeats,
                               args.project_id)

    print(f"\n{'page (server time from Server-Timing)':<58} {'median':>8} {'p95':>8} {'max':>8}   client median")
    for path, figures in page_results.items():
        s, c = figures["server_ms"], figures["client_ms"]
        print(f"{path:<58} {s['median']:>6.1f}ms {s['p95']:>6.1f}ms {s['max']:>6.1f}ms   {c['median']:.1f} ms")
    print(f"\n{'RPC (client-observed over TLS loopback)':<58} {'median':>8} {'p95':>8} {'max':>8}")
    for name, figures in rpc_results.items():
        c = figures["client_ms"]
        print(f"{name:<58} {c['median']:>6.1f}ms {c['p95']:>6.1f}ms {c['max']:>6.1f}ms")
    report = dict(json.loads(args.meta), pages=page_results, rpcs=rpc_results,
                  measured_at=dt.datetime.now(dt.timezone.utc).isoformat())
    Path(args.json).write_text(json.dumps(report, indent=2))
    print(f"\nreport: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
