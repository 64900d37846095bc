"""Synth wall time of the whole suite next to an empty CDK app's, measured in the same run.

Both go through the pinned CDK CLI (`cdk synth`), so CLI start-up, the jsii runtime and
Python imports are in both figures; the difference is what the suite's own constructs,
cdk-nag and Lambda bundling (pip, warm cache after the first run) cost.

    python benchmarks/synth_time.py [--runs 3]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CDK = ROOT / "node_modules" / ".bin" / "cdk"
EMPTY_APP = "import aws_cdk as cdk; app = cdk.App(); cdk.Stack(app, 'Empty'); app.synth()"
# The same empty app as the suite builds its app (stacks.suite.suite_app: CDK's built-in
# CloudFormation validation off, cfn-lint checks the templates instead).
EMPTY_SUITE_APP = ("import aws_cdk as cdk; app = cdk.App(builtin_cloud_formation_validation=False); "
                   "cdk.Stack(app, 'Empty'); app.synth()")


def timed_synth(app_command: str) -> float:
    outdir = tempfile.mkdtemp(prefix="synth-bench-")
    command = [str(CDK), "synth", "--quiet", "--no-notices", "--app", app_command, "--output", outdir]
    # The project's Node.js (package.json) first, as `make` and `npx` run it.
    env = {**os.environ, "PATH": f"{CDK.parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "CDK_DISABLE_CLI_TELEMETRY": "true"}
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    shutil.rmtree(outdir, ignore_errors=True)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not CDK.exists():
        sys.exit("the CDK CLI is missing: run `make install` first")
    python = sys.executable
    apps = {"empty CDK app": f'{python} -c "{EMPTY_APP}"',
            "empty, no built-in check": f'{python} -c "{EMPTY_SUITE_APP}"',
            "whole suite (app.py)": f"{python} app.py"}
    timed_synth(apps["empty CDK app"])  # warm-up: file caches, npm shims
    print(f"cdk synth wall time, {args.runs} runs each")
    results = {}
    for _ in range(args.runs):  # interleaved so both see the same machine load
        for name, command in apps.items():
            results.setdefault(name, []).append(timed_synth(command))
    for name, times in results.items():
        print(f"  {name:22} median {statistics.median(times):6.2f} s   min {min(times):6.2f} s   "
              f"max {max(times):6.2f} s")
    suite, empty = (statistics.median(results[name]) for name in ("whole suite (app.py)", "empty CDK app"))
    bare = statistics.median(results["empty, no built-in check"])
    print(f"  suite cost over an empty app: {suite - empty:.2f} s; ratio {suite / empty:.2f}x an empty app "
          f"({suite / bare:.2f}x one without CDK's built-in template validation)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
