"""What the server's tests share: twasm's commands, and a registry that
trusts the publisher of the signed test kernels."""

import os
import subprocess


def run(tool, *args):
    """`tool args...`'s output; its error ends the test."""
    result = subprocess.run([tool, *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)}: {result.stderr}")
    return result.stdout


def test_registry(twasm, kernels, work, artifacts):
    """WORK/registry, trusting the test publisher for test/*, holding
    `artifacts` (file names in `kernels`)."""
    registry = os.path.join(work, "registry")
    run(twasm, "registry", "--registry", registry, "trust", "add",
        os.path.join(kernels, "test-publisher.pub"), "--names", "test/*")
    for artifact in artifacts:
        run(twasm, "registry", "--registry", registry, "push",
            os.path.join(kernels, artifact))
    return registry
