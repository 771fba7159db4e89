#!/usr/bin/env python3
"""Alert evaluation lag: time from the proxy response whose usage crosses a budget
threshold to the webhook receiving that alert. Driven by ops/bench/alerts.sh (which starts
the server, the fake upstream and creates the tenant); measured, not asserted.

One project, one proxy key, one webhook channel (a local receiver in this process, so both
timestamps come from the same monotonic clock). A calibration request gives the cost c of
one request (x-llmlab-cost-usd); the budget becomes 100·c and the rule thresholds
2,3,…,N+1 %, so request i (spend (i+1)·c) crosses exactly threshold i+1. A random pause
between crossings keeps them from locking onto the evaluator's 10 s cycle.
"""
import argparse
import decimal
import http.server
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

received = {}  # threshold_pct -> monotonic receipt time
lock = threading.Lock()


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        at = time.monotonic()
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        try:
            payload = json.loads(body)
            if payload.get("event") == "budget_threshold":
                with lock:
                    received.setdefault(int(payload["data"]["threshold_pct"]), at)
        except (ValueError, KeyError):
            pass
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def admin(*args):
    out = subprocess.run([os.environ["BENCH_ADMIN"], *args], check=True, capture_output=True, text=True)
    return out.stdout


def chat(proxy, key):
    body = json.dumps({"model": "gpt-4o-mini", "max_tokens": 1,
                       "messages": [{"role": "user", "content": "alert lag probe"}]}).encode()
    request = urllib.request.Request(proxy + "/v1/chat/completions", data=body, method="POST",
                                     headers={"authorization": "Bearer " + key, "content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
        return decimal.Decimal(response.headers["x-llmlab-cost-usd"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--proxy", required=True, help="http://host:port of the proxy")
    parser.add_argument("--project", required=True)
    parser.add_argument("--api-key-file", required=True)
    parser.add_argument("--crossings", type=int, default=8, help="1..9")
    parser.add_argument("--max-pause", type=float, default=10.0, help="random pause between crossings, seconds")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--results-dir", required=True)
    parser.add_argument("--build-config", default="release")
    args = parser.parse_args()
    crossings = max(1, min(9, args.crossings))
    key = open(args.api_key_file).read().strip()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    admin("alert", "channel", "add", "bench-hook", "--url", f"http://127.0.0.1:{server.server_port}/hook", "--json")

    cost = chat(args.proxy, key)  # calibration: spend is now c = 1 % of the budget below
    if cost <= 0:
        sys.exit("the calibration request cost nothing: is the fake upstream's model priced?")
    budget = (cost * 100).quantize(decimal.Decimal("0.000001"), rounding=decimal.ROUND_FLOOR)
    admin("project", "update", args.project, "--budget", str(budget))
    thresholds = ",".join(str(i + 1) for i in range(1, crossings + 1))
    admin("alert", "rule", "set", "--project", args.project, "--thresholds", thresholds)
    print(f"    one request costs ${cost}; budget ${budget}; thresholds {thresholds} %")
    time.sleep(12)  # let the evaluator see the new budget and rule first (nothing crosses yet)

    lags = []
    for i in range(1, crossings + 1):
        time.sleep(random.uniform(0, args.max_pause))
        chat(args.proxy, key)
        sent = time.monotonic()
        threshold = i + 1
        while True:
            with lock:
                at = received.get(threshold)
            if at is not None:
                break
            if time.monotonic() - sent > args.timeout:
                sys.exit(f"no alert for {threshold} % within {args.timeout} s")
            time.sleep(0.01)
        lags.append(at - sent)
        print(f"    crossing {i}/{crossings} ({threshold} %): {at - sent:.2f} s")
    server.shutdown()

    result = {
        "benchmark": "alert evaluation lag",
        "build": args.build_config,
        "method": "proxy response of the crossing request -> webhook receipt, same process clock; evaluator every 10 s, usage writer flush 200 ms, deliverer poll 1 s",
        "crossings": len(lags),
        "lag_seconds": {"min": round(min(lags), 3), "median": round(statistics.median(lags), 3),
                        "max": round(max(lags), 3), "all": [round(x, 3) for x in lags]},
    }
    os.makedirs(args.results_dir, exist_ok=True)
    path = os.path.join(args.results_dir, time.strftime("alerts-%Y%m%dT%H%M%S.json"))
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
    print(f"==> alert lag over {len(lags)} crossings: median {statistics.median(lags):.2f} s, "
          f"max {max(lags):.2f} s, min {min(lags):.2f} s ({args.build_config} build); {path}")


if __name__ == "__main__":
    main()
