"""Waiting on conditions and faking child processes, for tests with threads and processes."""

from __future__ import annotations

import stat
import time
from pathlib import Path
from typing import Any, Callable


def fake_binary(path: Path, body: str, *, interpreter: str = "/bin/sh") -> Path:
    path.write_text(f"#!{interpreter}\n{body}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def alive(pid: int) -> bool:
    """Running, not merely an unreaped zombie (PID 1 in a container may never reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())


def read_values(path: Path, count: int, convert: Callable[[str], Any] = int) -> list[Any]:
    """What a fake camera wrote to ``path`` (pids by default), once it has written ``count`` values."""
    assert wait_until(lambda: path.exists() and len(path.read_text().split()) >= count), f"too little in {path}"
    return [convert(value) for value in path.read_text().split()]
