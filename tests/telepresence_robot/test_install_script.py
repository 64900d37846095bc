"""install.sh run for real, on a PATH of fakes that record every call and change nothing.

The PATH holds only the fakes and the two read-only tools the script needs to start (``dirname``,
``cat``): a command the fakes do not cover fails as "not found" instead of touching this machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from .helpers import fake_binary

INSTALL_SH = Path(__file__).resolve().parents[2] / "device" / "robot" / "install.sh"
FAKED = ("apt-get", "raspi-config", "id", "getent", "useradd", "usermod", "install", "rm", "cp", "mv", "find",
         "python3", "pip", "pip3", "git", "cmake", "make", "ln", "curl", "wget", "chmod", "chown", "mkdir",
         "systemctl", "head", "tee", "sudo")
READ_ONLY_PROBES = {"id", "getent"}  # does user `robot` exist, do the groups exist


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    calls: list[str]

    def programs(self) -> set[str]:
        return {call.split(" ", 1)[0] for call in self.calls}


@pytest.fixture
def run_installer(tmp_path: Path):
    fakes, tools, calls = tmp_path / "fakes", tmp_path / "tools", tmp_path / "calls"
    fakes.mkdir()
    tools.mkdir()
    for name in FAKED:
        fake_binary(fakes / name, 'printf \'%s\\n\' "${0##*/} $*" >> "$FAKE_CALLS"\n')
    # As root (`id -u`), and without the user `robot` yet; `apt-get update` fails, so that a real run
    # stops at its first step even if a fake were missing.
    fake_binary(fakes / "id", 'printf \'%s\\n\' "id $*" >> "$FAKE_CALLS"\n[ "$1" = -u ] && echo 0 && exit 0\nexit 1\n')
    fake_binary(fakes / "apt-get", 'printf \'%s\\n\' "apt-get $*" >> "$FAKE_CALLS"\n[ "$1" = update ] && exit 100\n'
                                   'exit 0\n')
    for tool in ("dirname", "cat"):
        (tools / tool).symlink_to(shutil.which(tool))

    def run(*args: str, **env: str) -> Run:
        result = subprocess.run(
            ["/bin/bash", str(INSTALL_SH), *args], capture_output=True, text=True, timeout=30,
            env={"PATH": f"{fakes}:{tools}", "FAKE_CALLS": str(calls), "HOME": str(tmp_path), **env})
        recorded = calls.read_text().splitlines() if calls.exists() else []
        calls.unlink(missing_ok=True)
        return Run(result.returncode, result.stdout, result.stderr, recorded)

    return run


def test_without_options_the_installer_runs_its_commands(run_installer):
    # The fakes see a real run: the checks below that --help and --dry-run run nothing can fail.
    run = run_installer()
    assert run.returncode != 0
    assert run.calls[-1] == "apt-get update"


@pytest.mark.parametrize("option", ["--help", "-h"])
def test_help_prints_the_usage_and_runs_nothing(run_installer, option):
    run = run_installer(option)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("Usage: install.sh [--dry-run]")
    assert "MOTOR_DRIVER" in run.stdout and "--dry-run" in run.stdout
    assert run.calls == []


def test_a_dry_run_prints_every_command_and_runs_none(run_installer):
    run = run_installer("--dry-run")
    assert run.returncode == 0, run.stderr
    assert run.programs() <= READ_ONLY_PROBES, run.calls
    printed = [line[2:] for line in run.stdout.splitlines() if line.startswith("+ ")]
    assert printed[:2] == ["apt-get update", "apt-get install -y --no-install-recommends python3 python3-venv "
                           "python3-dev git curl ca-certificates build-essential cmake m4 pkg-config libssl-dev "
                           "libcurl4-openssl-dev liblog4cplus-dev libgstreamer1.0-dev "
                           "libgstreamer-plugins-base1.0-dev gstreamer1.0-tools gstreamer1.0-plugins-base-apps "
                           "gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly"]
    for expected in ("useradd --system --home-dir /opt/telepresence-robot --no-create-home --shell "
                     "/usr/sbin/nologin robot",
                     "usermod -aG gpio robot",
                     "python3 -m venv /opt/telepresence-robot/venv",
                     "/opt/telepresence-robot/venv/bin/pip install --quiet explorerhat==0.5.1",
                     "cmake --build /opt/telepresence-robot/src/amazon-kinesis-video-streams-webrtc-sdk-c/build "
                     "--parallel 2",
                     "install -d -m 0750 -o root -g robot /etc/telepresence-robot",
                     "systemctl enable telepresence-robot"):
        assert expected in printed, expected
    assert printed.index("apt-get update") < printed.index("systemctl enable telepresence-robot")


def test_a_dry_run_follows_the_settings(run_installer):
    run = run_installer("--dry-run", MOTOR_DRIVER="motorkit", SKIP_CAMERA_BUILD="1")
    assert run.returncode == 0, run.stderr
    assert "+ /opt/telepresence-robot/venv/bin/pip install --quiet adafruit-circuitpython-motorkit==1.6.21" in \
        run.stdout.splitlines()
    printed = [line[2:] for line in run.stdout.splitlines() if line.startswith("+ ")]
    assert not [line for line in printed if line.startswith(("cmake ", "git "))]


def test_a_dry_run_needs_neither_root_nor_apt_get(run_installer, tmp_path):
    os.unlink(tmp_path / "fakes" / "apt-get")
    os.unlink(tmp_path / "fakes" / "id")
    run = run_installer("--dry-run")
    assert run.returncode == 0, run.stderr
    assert "+ apt-get update" in run.stdout.splitlines()


@pytest.mark.parametrize("args", [["--dryrun"], ["install"], ["--dry-run", "--force"]])
def test_an_unknown_option_prints_the_usage_and_exits_2_running_nothing(run_installer, args):
    run = run_installer(*args)
    assert run.returncode == 2
    assert "Usage: install.sh" in run.stderr
    assert f"unknown option '{args[-1]}'" in run.stderr
    assert run.calls == []
