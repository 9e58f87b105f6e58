#!/usr/bin/env python3
"""A bounded load test of `twasm serve` on loopback, with wrk.

64 concurrent clients (wrk connections) invoke saxpy for a fixed time, each
on an instance of its own: 8 tenants (one per wrk thread, each with its own
token), 8 instances each. Every instance's inputs are written first; after
the run the outputs of every instance are read back and checked against
saxpy computed here, so that a wrong answer is an error too. Reports the
latency percentiles, the throughput, the errors (non-2xx answers, socket
errors, wrong results) and the server's resident memory over the run.

Usage: load_bench.py --serve BIN --twasm BIN --artifact saxpy.twa
                     --publisher saxpy-publisher.pub [--device cpu|cuda]
                     [--seconds 30] [--connections 64] [--elements N]
                     [--json FILE]
--serve is the server (twasm-serve, or twasm with the first argument
"serve"); --twasm makes keys and tokens (twasm, or twasm-run's sibling
commands).
"""

import argparse
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

LUA = r"""
-- Each wrk thread is one tenant; its connections take its instances in
-- turn, so that each connection keeps to one instance.
local threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tenant", counter)
  table.insert(threads, thread)
end
function init(args)
  token = TOKENS[tenant]
  ids = INSTANCES[tenant]
  next_instance = 0
end
function request()
  next_instance = next_instance % #ids + 1
  return wrk.format("POST", "/v1/instances/" .. ids[next_instance] ..
                    "/invoke", {["Authorization"] = "Bearer " .. token,
                                ["Content-Type"] = "application/json"},
                    BODY)
end
function done(summary, latency, requests)
  local p = {}
  for _, q in ipairs({50, 90, 99, 99.9}) do
    table.insert(p, string.format("%g:%d", q, latency:percentile(q)))
  end
  io.write(string.format(
    "RESULT requests=%d seconds=%f non2xx=%d connect=%d read=%d write=%d " ..
    "timeout=%d status=%d mean=%f max=%d percentiles=%s\n",
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, summary.errors.status, latency.mean,
    latency.max, table.concat(p, ",")))
end
"""


def run(tool, *args):
    result = subprocess.run([*tool, *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)}: {result.stderr}")
    return result.stdout


def http(url, method="GET", token=None, body=None, content_type=None):
    request = urllib.request.Request(url, method=method, data=body)
    if token:
        request.add_header("Authorization", "Bearer " + token)
    if content_type:
        request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request, timeout=60) as answer:
        return answer.status, answer.read()


def resident_kib(pid):
    with open(f"/proc/{pid}/status") as file:
        for line in file:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def prepare(options, work, tenants):
    """The registry with the artifact, the issuer's keys and a token per
    tenant (tokens.json), in `work`."""
    os.makedirs(work, exist_ok=True)
    registry = os.path.join(work, "registry")
    run(options.twasm, "registry", "--registry", registry, "trust", "add",
        options.publisher, "--names", "bench/*")
    run(options.twasm, "registry", "--registry", registry, "push",
        options.artifact)
    run(options.twasm, "keygen", "-o", os.path.join(work, "issuer"))
    tokens = [run(options.twasm, "token", "issue", "--key",
                  os.path.join(work, "issuer.key"), "--tenant", f"load{t}",
                  "--op", "instantiate", "--op", "launch", "--kernel",
                  "bench/saxpy", "--expires", "12h").strip()
              for t in range(tenants)]
    with open(os.path.join(work, "tokens.json"), "w") as file:
        json.dump(tokens, file)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", nargs="+")
    parser.add_argument("--twasm", nargs="+")
    parser.add_argument("--artifact")
    parser.add_argument("--publisher")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--memory", default="managed")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--tenants", type=int, default=8)
    parser.add_argument("--elements", type=int, default=4096)
    parser.add_argument("--json", default=None)
    parser.add_argument("--prepare", default=None,
                        help="only make the registry, keys and tokens in "
                        "this directory (for a machine without twasm)")
    parser.add_argument("--prepared", default=None,
                        help="use what --prepare made instead of --twasm")
    options = parser.parse_args()
    wrk = shutil.which("wrk")
    if not wrk:
        raise SystemExit("wrk is not installed: run scripts/install-deps.sh")
    tenants = options.tenants
    per_tenant = max(1, options.connections // tenants)
    n = options.elements

    if options.prepare:
        prepare(options, options.prepare, tenants)
        return 0
    with tempfile.TemporaryDirectory() as work:
        if options.prepared:
            work = options.prepared
        else:
            prepare(options, work, tenants)
        registry = os.path.join(work, "registry")
        with open(os.path.join(work, "tokens.json")) as file:
            tokens = json.load(file)
        quotas = os.path.join(work, "quotas.json")
        # Quotas that the load stays within: the benchmark measures the
        # server, not refusals.
        with open(quotas, "w") as file:
            json.dump({"default": {"concurrent_launches": per_tenant,
                                   "instances": per_tenant,
                                   "launches_per_second": 1000000,
                                   "launch_burst": 1000000}}, file)
        server = subprocess.Popen(
            [*options.serve, "--device", options.device, "--memory",
             options.memory, "--listen", "127.0.0.1:0", "--registry",
             registry, "--issuer", os.path.join(work, "issuer.pub"),
             "--quotas", quotas, "--threads", str(options.connections + 8),
             "--requests-per-second", "1000000"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = server.stdout.readline()
        if "listening on http://" not in line:
            raise SystemExit("the server did not start: " + line +
                             server.stderr.read())
        device = line.split(";")[0].replace("twasm serve: ", "")
        url = "http://" + line.rsplit("http://", 1)[1].strip()

        instances = []
        x = struct.pack(f"<{n}f", *[float(i % 97) for i in range(n)])
        for t in range(tenants):
            token = tokens[t]
            ids = []
            for _ in range(per_tenant):
                status, body = http(url + "/v1/instances", "POST", token,
                                    b'{"kernel": "bench/saxpy"}',
                                    "application/json")
                ident = json.loads(body)["id"]
                # x at 0, y at 4n: y starts as x.
                for offset in (0, 4 * n):
                    http(f"{url}/v1/instances/{ident}/memory?offset={offset}",
                         "PUT", token, x, "application/octet-stream")
                ids.append(ident)
            instances.append(ids)
        # y = a*x + y, launched again and again: after k launches
        # y = (1 + k*a) * x, exact in f32 for these small integers and a=1.
        body = json.dumps({"kernel": "saxpy",
                           "args": [{"type": "i32", "value": n},
                                    {"type": "f32", "value": 1.0},
                                    {"type": "i32", "value": 0},
                                    {"type": "i32", "value": 4 * n}],
                           "grid": [(n + 255) // 256], "block": [256],
                           "timeout_ms": 10000})
        script = os.path.join(work, "load.lua")
        with open(script, "w") as file:
            file.write("TOKENS = {" + ",".join(f'"{t}"' for t in tokens) +
                       "}\nINSTANCES = {" + ",".join(
                           "{" + ",".join(f'"{i}"' for i in ids) + "}"
                           for ids in instances) + "}\nBODY = " +
                       json.dumps(body) + "\n" + LUA)

        samples = []
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                samples.append(resident_kib(server.pid))
                stop.wait(1)
        sampler = threading.Thread(target=sample)
        sampler.start()
        load = subprocess.run(
            [wrk, "-t", str(tenants), "-c", str(options.connections), "-d",
             f"{options.seconds}s", "--timeout", "20s", "--latency", "-s",
             script, url], capture_output=True, text=True)
        stop.set()
        sampler.join()
        result = re.search(r"RESULT (.*)", load.stdout)
        if not result:
            raise SystemExit("wrk failed: " + load.stdout + load.stderr)
        fields = dict(item.split("=", 1) for item in result.group(1).split())
        percentiles = {q: int(v) / 1000 for q, v in (
            p.split(":") for p in fields["percentiles"].split(","))}

        # Every instance's result: y = (1 + launches) * x. Launches per
        # instance are not known one by one, so y / x must be a whole
        # number k + 1 with k >= 1, the same for every element.
        wrong = 0
        total_launches = 0
        for t, ids in enumerate(instances):
            for ident in ids:
                status, y = http(
                    f"{url}/v1/instances/{ident}/memory?offset={4 * n}"
                    f"&length={4 * n}", token=tokens[t])
                ys = struct.unpack(f"<{n}f", y)
                xs = struct.unpack(f"<{n}f", x)
                ratio = None
                for xi, yi in zip(xs, ys):
                    if xi == 0:
                        if yi != 0:
                            wrong += 1
                        continue
                    r = yi / xi
                    if ratio is None:
                        ratio = r
                    if r != ratio or r != int(r) or r < 2:
                        wrong += 1
                        break
                total_launches += int(ratio or 1) - 1
        with urllib.request.urlopen(url + "/metrics", timeout=10) as answer:
            metrics = answer.read().decode()
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=60)

    requests = int(fields["requests"])
    seconds = float(fields["seconds"])
    errors = {k: int(fields[k]) for k in
              ("non2xx", "connect", "read", "write", "timeout")}
    report = {
        "device": device,
        "connections": options.connections,
        "tenants": tenants,
        "elements": n,
        "seconds": seconds,
        "requests": requests,
        "throughput_per_second": requests / seconds,
        "latency_ms": {"p50": percentiles["50"], "p90": percentiles["90"],
                       "p99": percentiles["99"], "p99.9": percentiles["99.9"],
                       "mean": float(fields["mean"]) / 1000,
                       "max": int(fields["max"]) / 1000},
        "errors": errors,
        "wrong_results": wrong,
        "launches_counted_in_memory": total_launches,
        "server_exit": code,
        "resident_mib": {"start": samples[0] / 1024 if samples else 0,
                         "end": samples[-1] / 1024 if samples else 0,
                         "max": max(samples) / 1024 if samples else 0,
                         "after_5s": samples[min(5, len(samples) - 1)] / 1024
                         if samples else 0},
    }
    print(json.dumps(report, indent=2))
    if options.json:
        with open(options.json, "w") as file:
            json.dump(report, file, indent=2)
    launched = sum(int(m) for m in re.findall(
        r'twasm_launches_total\{[^}]*outcome="completed"\} (\d+)', metrics))
    # Every answered request is a launch the memory counted, and no more.
    lost = launched - total_launches
    bad = sum(errors.values()) + wrong + (code != 0) + abs(lost) + \
        (requests > launched)
    print(f"launches: {launched} by the server's metrics, {total_launches} "
          f"by the instances' memory, {requests} answered to wrk")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
