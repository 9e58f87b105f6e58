#!/usr/bin/env python3
"""Property-based fuzzing of the running server from docs/openapi.yaml.

Starts `twasm serve` on the cpu device over a registry holding the signed
test kernels, with an instance and a snapshot of a tenant whose token the
fuzzer sends, then runs Schemathesis against every operation of the
document: requests generated from the schemas (valid and invalid), checked
for server errors (any 5xx but the documented ones), status codes, content
types and response schemas the document does not give. Then checks that the
server still answers and shuts down cleanly, and counts the requests it
answered from its audit log.

Usage: fuzz.py --twasm BIN --kernels DIR --openapi FILE [--examples N]
               [--seed S] [--report DIR]
Exit status: 0 when every check held and at least --minimum requests ran.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request

from fixture import run, test_registry




def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--twasm", required=True)
    parser.add_argument("--kernels", required=True)
    parser.add_argument("--openapi", required=True)
    parser.add_argument("--examples", type=int, default=100,
                        help="examples per operation and phase")
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--minimum", type=int, default=1000,
                        help="requests the run must have made")
    parser.add_argument("--report", default=None,
                        help="keep Schemathesis' reports here")
    options = parser.parse_args()
    # Schemathesis runs in a scratch directory (its cache goes there).
    options.openapi = os.path.abspath(options.openapi)
    if options.report:
        options.report = os.path.abspath(options.report)
    schemathesis = shutil.which("schemathesis") or shutil.which("st")
    if not schemathesis:
        raise SystemExit("schemathesis is not installed: run "
                         "scripts/install-deps.sh")
    twasm = options.twasm

    with tempfile.TemporaryDirectory() as work:
        registry = test_registry(twasm, options.kernels, work,
                                 ["runtime-kernels.twa", "stateful.twa"])
        run(twasm, "keygen", "-o", os.path.join(work, "issuer"))
        snapshot_key = os.path.join(work, "snapshots.key")
        run(twasm, "snapshot", "keygen", "--id", "fuzz", "-o", snapshot_key)
        token = run(twasm, "token", "issue", "--key",
                    os.path.join(work, "issuer.key"), "--tenant", "fuzz",
                    "--op", "publish", "--op", "instantiate", "--op",
                    "launch", "--op", "snapshot", "--op", "restore",
                    "--kernel", "test/*", "--expires", "2h").strip()
        audit = os.path.join(work, "audit.jsonl")
        # Generous request rates: the fuzzer is to reach the handlers, not
        # the rate limit (which the API test checks).
        server = subprocess.Popen(
            [twasm, "serve", "--device", "cpu", "--listen", "127.0.0.1:0",
             "--registry", registry, "--issuer",
             os.path.join(work, "issuer.pub"), "--snapshot-key",
             snapshot_key, "--audit", audit, "--max-body", str(4 << 20),
             "--requests-per-second", "100000"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = server.stdout.readline()
        if "listening on http://" not in line:
            raise SystemExit("the server did not start: " + line +
                             server.stderr.read())
        url = "http://" + line.rsplit("http://", 1)[1].strip()

        report = options.report or os.path.join(work, "report")
        command = [schemathesis, "run", options.openapi, "--url", url,
                   "--header", "Authorization: Bearer " + token,
                   "--checks", "all",
                   # Artifacts and snapshots are signed binary containers
                   # that no schema can describe: bytes the schema allows
                   # are rightly refused (422), which this check would call
                   # a failure.
                   # httplib refuses a method it does not know (QUERY) with
                   # 400 before any route is seen; the server answers 405
                   # for the methods httplib reads (api_test.py).
                   "--exclude-checks",
                   "positive_data_acceptance,unsupported_method",
                   "--max-examples", str(options.examples),
                   "--seed", str(options.seed), "--workers", "2",
                   "--request-timeout", "30", "--no-shrink",
                   "--report", "ndjson", "--report-dir", report,
                   "--suppress-health-check", "all",
                   "--warnings", "off"]
        fuzzing = subprocess.run(command, capture_output=True, text=True,
                                 cwd=work)
        os.makedirs(report, exist_ok=True)
        with open(os.path.join(report, "schemathesis.txt"), "w") as file:
            file.write(fuzzing.stdout)
        print(fuzzing.stdout[-6000:])
        if fuzzing.returncode != 0:
            print(fuzzing.stderr[-3000:], file=sys.stderr)

        # Still serving after all that, and a clean shutdown.
        with urllib.request.urlopen(url + "/healthz", timeout=10) as answer:
            alive = answer.status == 200
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=60)
        with open(audit) as file:
            lines = [json.loads(line) for line in file]
        statuses = {}
        for entry in lines:
            statuses[entry["status"]] = statuses.get(entry["status"], 0) + 1
        server_errors = {s: n for s, n in statuses.items() if s >= 500}
        unanswered = [entry for entry in lines if entry["status"] < 100]
        for entry in unanswered:
            print(f"audited without a status: {entry}")

    print(f"requests answered: {len(lines)}; by status: "
          f"{dict(sorted(statuses.items()))}")
    problems = []
    if fuzzing.returncode != 0 and "Failures:" in fuzzing.stdout:
        problems.append("schemathesis found failures (above)")
    elif fuzzing.returncode != 0:
        # An error of Schemathesis' own (a generator that could not run) is
        # not a finding about the server: said, not failed on.
        print("note: Schemathesis reported errors of its own, no failures")
    if not alive:
        problems.append("the server stopped answering /healthz")
    if code != 0:
        problems.append(f"the server exited {code} after SIGTERM")
    if len(lines) < options.minimum:
        problems.append(f"only {len(lines)} requests ran, fewer than "
                        f"{options.minimum}")
    # The cpu device never fails as a device: any 5xx here is a bug.
    if server_errors:
        problems.append(f"server errors: {server_errors}")
    if unanswered:
        problems.append(f"{len(unanswered)} audit lines without a status")
    if problems:
        print("FAILED: " + "; ".join(problems))
        return 1
    print(f"PASSED: {len(lines)} generated requests, no server error, every "
          "answer as documented, the server still up and stopped cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
