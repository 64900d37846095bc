"""Compile every function's ``requirements.in`` into its hash lock, ``requirements.txt``.

    python scripts/lock_lambda_deps.py           # rewrite the locks (`make lock`)
    python scripts/lock_lambda_deps.py --check   # exit 1 when a lock is not what its input compiles to

Locks are resolved by ``uv pip compile`` for the platform the function runs on, not for
this machine: the Lambda runtime's Python version and a manylinux tag of its architecture
(arm64 unless ``requirements.in`` says ``# lambda-architecture: x86_64``), binary wheels
only, every distribution with its sha256. The bundler installs them in pip's hash-checking
mode (``stacks/common/bundling.py``).
"""
from __future__ import annotations

import argparse
import difflib
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Kept equal by tests/common/test_bundling.py to what the stacks use (stacks/common/bundling.py
# and RUNTIME in stacks/common/lambda_function.py); not imported, because importing the CDK
# starts its Node.js runtime just to read three strings.
LOCK_INPUT_FILE = "requirements.in"
REQUIREMENTS_FILE = "requirements.txt"
LAMBDA_PYTHON = "3.14"
# Lambda's Python 3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34); manylinux_2_28
# admits every wheel the bundler's pip (manylinux2014, manylinux_2_28) accepts.
PLATFORMS = {"arm64": "aarch64-manylinux_2_28", "x86_64": "x86_64-manylinux_2_28"}
_ARCHITECTURE = re.compile(r"^#\s*lambda-architecture:\s*(\S+)\s*$", re.MULTILINE)
SEARCHED = ("lambda_src", "containers", "tests/common/fixtures")  # containers: the PDF worker image


def lock_inputs(root: Path = ROOT) -> list[Path]:
    return sorted(path for folder in SEARCHED for path in (root / folder).rglob(LOCK_INPUT_FILE))


def architecture_of(lock_input: Path) -> str:
    match = _ARCHITECTURE.search(lock_input.read_text())
    architecture = match.group(1) if match else "arm64"
    if architecture not in PLATFORMS:
        raise SystemExit(f"{lock_input}: lambda-architecture must be one of {', '.join(PLATFORMS)}, "
                         f"got {architecture!r}")
    return architecture


def compile_lock(lock_input: Path, output: Path) -> None:
    command = [
        sys.executable, "-m", "uv", "pip", "compile", LOCK_INPUT_FILE,
        "--output-file", str(output),
        "--python-platform", PLATFORMS[architecture_of(lock_input)],
        "--python-version", LAMBDA_PYTHON,
        "--only-binary", ":all:",
        "--generate-hashes",
        "--no-python-downloads",
        "--quiet",
        "--custom-compile-command", "make lock",
    ]
    # Run beside the input so the lock's "via -r requirements.in" notes carry no machine path.
    environment = {**os.environ, "UV_NO_CONFIG": "1", "UV_PYTHON_DOWNLOADS": "never"}
    result = subprocess.run(command, cwd=lock_input.parent, env=environment, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"uv could not lock {lock_input}:\n{result.stderr.strip()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of rewriting")
    args = parser.parse_args()
    stale = []
    for lock_input in lock_inputs():
        lock = lock_input.with_name(REQUIREMENTS_FILE)
        if not args.check:
            compile_lock(lock_input, lock)
            print(f"locked {lock.relative_to(ROOT)}")
            continue
        with tempfile.TemporaryDirectory() as scratch:
            fresh = Path(scratch) / REQUIREMENTS_FILE
            compile_lock(lock_input, fresh)
            current = lock.read_text() if lock.exists() else ""
            if fresh.read_text() != current:
                stale.append(lock)
                sys.stdout.writelines(difflib.unified_diff(
                    current.splitlines(keepends=True), fresh.read_text().splitlines(keepends=True),
                    str(lock.relative_to(ROOT)), "compiled now"))
    if stale:
        print(f"{len(stale)} lock(s) out of date: run `make lock`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
