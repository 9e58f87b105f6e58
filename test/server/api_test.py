#!/usr/bin/env python3
"""docs/openapi.yaml against the running server (`twasm serve`).

Starts the server on the cpu device over a registry holding the signed test
kernels, then calls every route of the document so that each documented
status code comes back at least once, and checks that every answer's status
is one the document gives for its operation, with a body of the documented
media type (JSON bodies also against the documented schema's required
fields). Ends with a graceful shutdown while a launch runs: /healthz answers
503 during the grace, the launch is answered, the server exits 0, and every
request has its audit line.

Usage: api_test.py --twasm BIN --kernels DIR --openapi FILE
"""

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

import yaml

from fixture import run, test_registry

# Codes the document gives that this test cannot produce, and why.
NOT_PRODUCED = {
    # DeviceFailure comes from a failing GPU only (the cuda device's error
    # paths are tested over the mock driver, MockDeviceTest.cpp).
    "503": "a failing GPU",
    # Unsupported: a module the device cannot instantiate (one that imports
    # host functions); the test kernels have none.
    "create_instance 501": "a module the device cannot instantiate",
}


class Server:
    def __init__(self, twasm, work, registry, issuer, extra):
        self.port = None
        command = [twasm, "serve", "--device", "cpu", "--listen",
                   "127.0.0.1:0", "--registry", registry, "--issuer", issuer,
                   "--audit", os.path.join(work, "audit.jsonl")] + extra
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if "listening on http://" not in line:
            raise SystemExit("the server did not start: " + line +
                             self.process.stderr.read())
        self.port = int(line.rsplit(":", 1)[1])

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


class Checker:
    def __init__(self, document):
        self.document = document
        self.observed = set()
        self.failures = []
        self.operations = {}
        for path, item in document["paths"].items():
            for method, operation in item.items():
                if method in ("get", "post", "put", "delete"):
                    self.operations[operation["operationId"]] = (
                        method.upper(), path, operation)

    def call(self, port, operation_id, path, expect, token=None, body=None,
             content_type=None, headers=None):
        method, _, operation = self.operations[operation_id]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = "Bearer " + token
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            content_type = content_type or "application/json"
        if content_type:
            sent["Content-Type"] = content_type
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        data = response.read()
        status = str(response.status)
        connection.close()
        where = f"{operation_id} {method} {path}"
        documented = operation.get("responses", {})
        if status not in documented:
            self.failures.append(f"{where}: status {status} is not documented "
                                 f"({data[:200]!r})")
        else:
            self.check_body(where, documented[status], response, data)
        if expect is not None and status != str(expect):
            self.failures.append(f"{where}: expected {expect}, got {status} "
                                 f"({data[:300]!r})")
        self.observed.add((operation_id, status))
        return status, data, response

    def resolve(self, node):
        while isinstance(node, dict) and "$ref" in node:
            target = self.document
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def check_body(self, where, documented, response, data):
        documented = self.resolve(documented)
        content = documented.get("content")
        if not content:
            if data:
                self.failures.append(f"{where}: a body where none is "
                                     "documented")
            return
        media = (response.getheader("Content-Type") or "").split(";")[0]
        if media not in content:
            self.failures.append(f"{where}: media type {media!r} is not "
                                 f"among {list(content)}")
            return
        if media != "application/json":
            return
        try:
            value = json.loads(data)
        except ValueError:
            self.failures.append(f"{where}: the body is not JSON")
            return
        schema = self.resolve(content[media].get("schema", {}))
        for field in schema.get("required", []):
            if field not in value:
                self.failures.append(f"{where}: the body lacks the required "
                                     f"field {field!r}")

    def coverage(self):
        for operation_id, (_, _, operation) in self.operations.items():
            for status in operation.get("responses", {}):
                if status in NOT_PRODUCED or \
                        f"{operation_id} {status}" in NOT_PRODUCED:
                    continue
                if (operation_id, status) not in self.observed:
                    self.failures.append(f"{operation_id}: documented status "
                                         f"{status} never came back")




def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--twasm", required=True)
    parser.add_argument("--kernels", required=True)
    parser.add_argument("--openapi", required=True)
    options = parser.parse_args()
    with open(options.openapi) as file:
        document = yaml.safe_load(file)
    if not str(document.get("openapi", "")).startswith("3.1"):
        raise SystemExit("the document is not OpenAPI 3.1")
    checker = Checker(document)
    twasm = options.twasm

    with tempfile.TemporaryDirectory() as work:
        registry = test_registry(twasm, options.kernels, work,
                                 ["stateful.twa"])
        run(twasm, "keygen", "-o", os.path.join(work, "issuer"))
        issuer_key = os.path.join(work, "issuer.key")
        issuer = os.path.join(work, "issuer.pub")
        snapshot_key = os.path.join(work, "snapshots.key")
        run(twasm, "snapshot", "keygen", "--id", "test", "-o", snapshot_key)
        metrics_secret = os.path.join(work, "metrics.secret")
        with open(metrics_secret, "w") as file:
            file.write("a-metrics-secret-of-the-test\n")
        quotas = os.path.join(work, "quotas.json")
        with open(quotas, "w") as file:
            json.dump({"tenants": {"small": {"instances": 1,
                                             "artifact_bytes": 1000}}}, file)

        def token(tenant, ops, kernels, expires="1h"):
            args = ["token", "issue", "--key", issuer_key, "--tenant",
                    tenant, "--expires", expires]
            for op in ops:
                args += ["--op", op]
            for kernel in kernels:
                args += ["--kernel", kernel]
            return run(twasm, *args).strip()

        everything = ["publish", "instantiate", "launch", "snapshot",
                      "restore"]
        acme = token("acme", everything, ["test/*"])
        other = token("other", everything, ["test/*"])
        publish_only = token("acme", ["publish"], ["test/*"])
        instantiate_only = token("acme", ["instantiate"], ["test/*"])
        small = token("small", everything, ["test/*"])

        server = Server(twasm, work, registry, issuer,
                        ["--snapshot-key", snapshot_key, "--max-body",
                         str(1 << 20), "--quotas", quotas, "--metrics-token",
                         metrics_secret, "--drain-grace-ms", "1500",
                         # Refilled slowly enough that the 429 check
                         # cannot race the refill, however slow the build.
                         "--failed-auth-per-minute", "6",
                         "--failed-auth-burst", "100"])
        port = server.port
        call = lambda *a, **k: checker.call(port, *a, **k)
        none = "00000000000000000000000000000000"
        oversized = b"\0" * (2 << 20)
        try:
            # Health and metrics.
            call("healthz", "/healthz", 200)
            call("metrics", "/metrics", 403)
            call("metrics", "/metrics", 200, headers={
                "Authorization": "Bearer a-metrics-secret-of-the-test"})

            # Kernels: publish, list, get.
            with open(os.path.join(options.kernels,
                                   "runtime-kernels.twa"), "rb") as file:
                artifact = file.read()
            call("publish_kernel", "/v1/kernels", 201, acme, artifact,
                 "application/octet-stream")
            call("publish_kernel", "/v1/kernels", 403, instantiate_only,
                 artifact, "application/octet-stream")
            call("publish_kernel", "/v1/kernels", 422, acme, b"not an artifact",
                 "application/octet-stream")
            call("publish_kernel", "/v1/kernels", 413, acme, oversized,
                 "application/octet-stream")
            call("publish_kernel", "/v1/kernels", 429, small, artifact,
                 "application/octet-stream")
            newer_format = artifact[:8] + (99).to_bytes(4, "little") + \
                artifact[12:]
            call("publish_kernel", "/v1/kernels", 501, acme, newer_format,
                 "application/octet-stream")
            call("list_kernels", "/v1/kernels?page_size=1", 200, acme)
            status, data, _ = call("list_kernels", "/v1/kernels", 200, acme)
            names = [item["name"] for item in json.loads(data)["items"]]
            if names != ["test/runtime-kernels", "test/stateful"]:
                checker.failures.append(f"list_kernels: {names}")
            call("list_kernels", "/v1/kernels?page_size=0", 400, acme)
            # A token that names one kernel sees it alone, and its cursor
            # names nothing else.
            narrow = token("acme", ["instantiate"], ["test/stateful"])
            status, data, _ = call("list_kernels", "/v1/kernels?page_size=1",
                                   200, narrow)
            page = json.loads(data)
            if [i["name"] for i in page["items"]] != ["test/stateful"] or \
                    "runtime-kernels" in page.get("next_page_token", ""):
                checker.failures.append(f"list_kernels leaks: {page}")
            # A body on a GET would be read as the next request: refused.
            connection = http.client.HTTPConnection("127.0.0.1", port)
            connection.request("GET", "/v1/instances", body=b"GET /x HTTP/1.1",
                               headers={"Authorization": "Bearer " + acme})
            answer = connection.getresponse()
            answer.read()
            if answer.status != 400 or \
                    answer.getheader("Connection") != "close":
                checker.failures.append("a GET with a body: "
                                        f"{answer.status}")
            connection.close()
            call("get_kernel", "/v1/kernels/test/runtime-kernels", 200, acme)
            call("get_kernel", "/v1/kernels/test%2Fstateful@1", 200, acme)
            call("get_kernel", "/v1/kernels/test/none", 404, acme)

            # Instances.
            call("create_instance", "/v1/instances", 400, acme, {})
            call("create_instance", "/v1/instances", 404, acme,
                 {"kernel": "test/none"})
            call("create_instance", "/v1/instances", 403, publish_only,
                 {"kernel": "test/runtime-kernels"})
            call("create_instance", "/v1/instances", 413, acme, oversized,
                 "application/json")
            status, data, _ = call("create_instance", "/v1/instances", 201,
                                   acme, {"kernel": "test/runtime-kernels"})
            instance = json.loads(data)["id"]
            base = "/v1/instances/" + instance
            call("create_instance", "/v1/instances", 201, small,
                 {"kernel": "test/runtime-kernels"})
            call("create_instance", "/v1/instances", 429, small,
                 {"kernel": "test/runtime-kernels"})
            call("list_instances", "/v1/instances", 200, acme)
            call("get_instance", base, 200, acme)
            call("get_instance", base, 404, other)
            call("get_instance", "/v1/instances/" + none, 404, acme)

            # Memory.
            words = bytes(range(256)) * 16
            call("write_memory", base + "/memory?offset=1024", 204, acme,
                 words, "application/octet-stream")
            call("write_memory", base + "/memory?offset=65535", 400, acme,
                 words, "application/octet-stream")
            call("write_memory", base + "/memory", 403, publish_only, words,
                 "application/octet-stream")
            call("write_memory", "/v1/instances/" + none + "/memory", 404,
                 acme, words, "application/octet-stream")
            call("write_memory", base + "/memory", 413, acme, oversized,
                 "application/octet-stream")
            status, data, _ = call("read_memory",
                                   base + "/memory?offset=1024&length=4096",
                                   200, acme)
            if data != words:
                checker.failures.append("read_memory: not what was written")
            call("read_memory", base + "/memory?offset=65536&length=1", 400,
                 acme)
            call("read_memory", base + "/memory?length=4", 403, publish_only)
            call("read_memory", "/v1/instances/" + none + "/memory?length=4",
                 404, acme)
            call("grow_memory", base + "/grow", 200, acme, {"pages": 1})
            call("grow_memory", base + "/grow", 400, acme, {"pages": -1})
            call("grow_memory", base + "/grow", 403, publish_only,
                 {"pages": 1})
            call("grow_memory", "/v1/instances/" + none + "/grow", 404, acme,
                 {"pages": 1})
            call("grow_memory", base + "/grow", 429, acme, {"pages": 100})
            call("grow_memory", base + "/grow", 413, acme, oversized,
                 "application/json")

            # Launches: completed with the right results, trapped,
            # interrupted, refused.
            values = list(range(64))
            call("write_memory", base + "/memory?offset=0", 204, acme,
                 b"".join(v.to_bytes(4, "little") for v in values),
                 "application/octet-stream")
            args = [{"type": "i32", "value": 64}, {"type": "i32", "value": 3},
                    {"type": "i32", "value": 0},
                    {"type": "i32", "value": 4096}]
            status, data, _ = call("invoke", base + "/invoke", 200, acme,
                                   {"kernel": "scale", "args": args,
                                    "grid": [1], "block": [64]})
            if json.loads(data).get("outcome") != "completed":
                checker.failures.append(f"invoke: {data!r}")
            status, data, _ = call("read_memory",
                                   base + "/memory?offset=4096&length=256",
                                   200, acme)
            got = [int.from_bytes(data[i:i + 4], "little")
                   for i in range(0, 256, 4)]
            if got != [v * 3 + i for i, v in enumerate(values)]:
                checker.failures.append(f"invoke computed {got}")
            status, data, _ = call("invoke", base + "/invoke", 200, acme,
                                   {"kernel": "store_out_of_bounds",
                                    "args": [{"type": "i32", "value": 5}],
                                    "grid": [1], "block": [32]})
            trap = json.loads(data)
            if trap.get("outcome") != "trapped" or trap["trap"]["thread"] != [
                    5, 0, 0]:
                checker.failures.append(f"invoke trap: {data!r}")
            status, data, _ = call("invoke", base + "/invoke", 200, acme,
                                   {"kernel": "spin",
                                    "args": [{"type": "i32", "value": 0}],
                                    "timeout_ms": 50})
            if json.loads(data).get("outcome") != "interrupted":
                checker.failures.append(f"invoke spin: {data!r}")
            call("invoke", base + "/invoke", 400, acme, {"kernel": "scale"})
            call("invoke", base + "/invoke", 400, acme,
                 {"kernel": "scale", "args": [{"type": "i128", "value": 1}]})
            call("invoke", base + "/invoke", 403, publish_only,
                 {"kernel": "scale", "args": args})
            call("invoke", "/v1/instances/" + none + "/invoke", 404, acme,
                 {"kernel": "scale", "args": args})
            call("invoke", base + "/invoke", 429, acme,
                 {"kernel": "scale", "args": args, "grid": [65535, 65535]})
            call("invoke", base + "/invoke", 413, acme, oversized,
                 "application/json")

            # Snapshots: create, list, download, restore (stored and
            # uploaded), delete.
            status, data, _ = call("create_snapshot", base + "/snapshots", 201,
                                   acme)
            snapshot = json.loads(data)["id"]
            kept = "/v1/snapshots/" + snapshot
            call("create_snapshot", base + "/snapshots", 403, publish_only)
            call("create_snapshot", base + "/snapshots", 413, acme, oversized,
                 "application/octet-stream")
            call("create_snapshot", "/v1/instances/" + none + "/snapshots",
                 404, acme)
            call("list_snapshots", "/v1/snapshots", 200, acme)
            status, snapshot_bytes, _ = call("download_snapshot", kept, 200,
                                             acme)
            call("download_snapshot", kept, 404, other)
            status, data, _ = call("restore_snapshot", kept + "/restore", 201,
                                   acme)
            restored = "/v1/instances/" + json.loads(data)["id"]
            status, data, _ = call("read_memory",
                                   restored + "/memory?offset=4096&length=256",
                                   200, acme)
            if data[:4] != (0).to_bytes(4, "little") or len(data) != 256:
                checker.failures.append("restore: memory differs")
            call("restore_snapshot", kept + "/restore", 403, publish_only)
            call("restore_snapshot", kept + "/restore", 413, acme, oversized,
                 "application/octet-stream")
            call("restore_snapshot", "/v1/snapshots/" + none + "/restore",
                 404, acme)
            call("restore_upload", "/v1/restore?kernel=test/runtime-kernels",
                 201, acme, snapshot_bytes, "application/octet-stream")
            call("restore_upload", "/v1/restore", 400, acme, snapshot_bytes,
                 "application/octet-stream")
            call("restore_upload", "/v1/restore?kernel=test/none", 404, acme,
                 snapshot_bytes, "application/octet-stream")
            call("restore_upload", "/v1/restore?kernel=test/runtime-kernels",
                 403, publish_only, snapshot_bytes,
                 "application/octet-stream")
            call("restore_upload", "/v1/restore?kernel=test/runtime-kernels",
                 422, acme, b"not a snapshot", "application/octet-stream")
            call("restore_upload", "/v1/restore?kernel=test/runtime-kernels",
                 413, acme, oversized, "application/octet-stream")
            # Another tenant's snapshot restores for no one else.
            call("restore_upload", "/v1/restore?kernel=test/runtime-kernels",
                 403, other, snapshot_bytes, "application/octet-stream")
            for _ in range(16):
                status, _, _ = call("create_snapshot", base + "/snapshots",
                                    None, acme)
                if status == "429":
                    break
            if status != "429":
                checker.failures.append("snapshots per tenant not limited")
            call("delete_snapshot", kept, 204, acme)
            call("delete_snapshot", kept, 404, acme)
            call("delete_instance", base, 204, acme)
            call("delete_instance", base, 404, acme)

            # A damaged object in the registry: the artifact is no longer
            # well-formed (422), whoever asks; nothing says where the
            # registry is.
            status, data, _ = call("create_instance", "/v1/instances", 201,
                                   acme, {"kernel": "test/stateful"})
            stateful = "/v1/instances/" + json.loads(data)["id"]
            for _ in range(2):
                call("delete_snapshot", "/v1/snapshots/" + json.loads(call(
                    "list_snapshots", "/v1/snapshots", 200, acme)[1])[
                        "items"][0]["id"], 204, acme)
            status, data, _ = call("create_snapshot",
                                   stateful + "/snapshots", 201, acme)
            stateful_snapshot = "/v1/snapshots/" + json.loads(data)["id"]
            status, data, _ = call("get_kernel", "/v1/kernels/test/stateful",
                                   200, acme)
            digest = json.loads(data)["digest"]
            stored = os.path.join(registry, "objects", "sha256", digest[:2],
                                  digest)
            os.chmod(stored, 0o644)
            with open(stored, "r+b") as file:
                # The manifest's length, past any file: not an artifact.
                file.seek(12)
                file.write((0x7fffffff).to_bytes(4, "little"))
            status, data, _ = call("get_kernel", "/v1/kernels/test/stateful",
                                   422, acme)
            if registry.encode() in data:
                checker.failures.append("an error names the registry's "
                                        f"directory: {data!r}")
            call("create_instance", "/v1/instances", 422, acme,
                 {"kernel": "test/stateful"})
            call("restore_snapshot", stateful_snapshot + "/restore", 422,
                 acme)

            # A publisher the registry stops trusting: its artifacts are
            # refused (403).
            key_id = run(twasm, "registry", "--registry", registry, "trust",
                         "list").split()[0]
            run(twasm, "registry", "--registry", registry, "trust", "remove",
                key_id)
            call("get_kernel", "/v1/kernels/test/runtime-kernels", 403, acme)
            run(twasm, "registry", "--registry", registry, "trust", "add",
                os.path.join(options.kernels, "test-publisher.pub"),
                "--names", "test/*")

            # Without a token, each authenticated route says so (401); an
            # address that keeps failing is then answered 429.
            for wanted in ("401", "429"):
                for operation_id, (method, path, operation) in \
                        checker.operations.items():
                    if wanted not in operation.get("responses", {}):
                        continue
                    # Emptied right before each call (a token every 10 s
                    # comes back).
                    for _ in range(200 if wanted == "429" else 0):
                        if call("list_instances", "/v1/instances", None,
                                "bad")[0] == "429":
                            break
                    concrete = (path.replace("{id}", none)
                                .replace("{reference}", "test/stateful"))
                    body = {} if method in ("POST", "PUT") else None
                    call(operation_id, concrete, wanted, None, body)
        finally:
            checker_server_stop = server.stop()

        # A server without a snapshot key says what it lacks (501).
        bare = Server(twasm, work, registry, issuer,
                      ["--drain-grace-ms", "600"])
        try:
            port = bare.port
            status, data, _ = call("create_instance", "/v1/instances", 201,
                                   acme, {"kernel": "test/runtime-kernels"})
            base = "/v1/instances/" + json.loads(data)["id"]
            call("create_snapshot", base + "/snapshots", 501, acme)
            call("restore_upload", "/v1/restore?kernel=test/runtime-kernels",
                 501, acme, b"x", "application/octet-stream")
            call("restore_snapshot", "/v1/snapshots/" + none + "/restore",
                 404, acme)

            # Graceful shutdown: a launch running when SIGTERM comes is
            # answered; /healthz says 503 during the grace.
            answer = {}

            def long_launch():
                answer["result"] = call(
                    "invoke", base + "/invoke", 200, acme,
                    {"kernel": "spin", "args": [{"type": "i32", "value": 0}],
                     "timeout_ms": 1200})
            launcher = threading.Thread(target=long_launch)
            launcher.start()
            time.sleep(0.3)
            bare.process.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            call("healthz", "/healthz", 503)
            launcher.join(timeout=30)
            if "result" not in answer or json.loads(
                    answer["result"][1]).get("outcome") != "interrupted":
                checker.failures.append("the launch in flight at shutdown "
                                        f"was not answered: {answer}")
            code = bare.process.wait(timeout=30)
            if code != 0:
                checker.failures.append(f"the server exited {code} after "
                                        "SIGTERM")
        finally:
            bare.stop()
        if checker_server_stop != 0:
            checker.failures.append(f"the server exited {checker_server_stop}")

        # Every request has its audit line.
        with open(os.path.join(work, "audit.jsonl")) as file:
            lines = [json.loads(line) for line in file]
        audited = sum(1 for line in lines if "status" in line)
        if audited < len(lines) or len(lines) < 100:
            checker.failures.append(f"audit: {len(lines)} lines")

    checker.coverage()
    if checker.failures:
        print("\n".join(checker.failures))
        print(f"FAILED: {len(checker.failures)} problems")
        return 1
    print(f"PASSED: {len(checker.operations)} operations, "
          f"{len(checker.observed)} (operation, status) pairs seen, each "
          "documented, and every documented one seen")
    return 0


if __name__ == "__main__":
    sys.exit(main())
