#!/usr/bin/env bash
# Install the telepresence robot on Raspberry Pi OS (Bookworm or later), from a checkout of this
# repository on the Pi:   sudo MOTOR_DRIVER=explorerhat ./device/robot/install.sh
# Options and settings: see usage() below, or run it with --help.
#
# Result:
#   /opt/telepresence-robot/app      the application (device/robot), run by the system user `robot`
#   /opt/telepresence-robot/venv     its Python virtual environment (awsiotsdk, driver library)
#   /opt/telepresence-robot/src      the WebRTC SDK build; /opt/telepresence-robot/kvs/ links its master sample
#   /etc/telepresence-robot          config.json, certificate.pem, private.key, AmazonRootCA1.pem
#   /opt/telepresence-robot/README.md  docs/telepresence_robot_device.md (the unit's Documentation=)
#   telepresence-robot.service       enabled; started once config.json and the certificate are in place
#
# Every command that changes the system goes through run(), which --dry-run turns into a print.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: install.sh [--dry-run] [--help]

Installs the telepresence robot on this Raspberry Pi; run it as root:
    sudo MOTOR_DRIVER=explorerhat ./device/robot/install.sh
It is safe to run again, for an update.

Options:
  -n, --dry-run  print every command that would change the system, in order, and run none
                 of them; needs no root. It only looks (does the user `robot` exist, is the
                 SDK checked out, are the credentials in place) so the plan fits this machine.
  -h, --help     print this help and exit

Environment (all optional):
  MOTOR_DRIVER       explorerhat (default), motorkit or simulated: the driver library to install
  KVS_WEBRTC_REF     tag of amazon-kinesis-video-streams-webrtc-sdk-c to build (default v1.18.1)
  SKIP_CAMERA_BUILD  1: no camera build (then set camera.enabled to false in config.json)
  BUILD_JOBS         parallel compile jobs (default 2: a Pi 3 runs out of memory with more)

Exit status: 0 done, 1 failed, 2 unknown option.
USAGE
}

DRY_RUN=0
for option in "$@"; do
  case "$option" in
    -h|--help) usage; exit 0 ;;
    -n|--dry-run) DRY_RUN=1 ;;
    *) printf "install.sh: unknown option '%s'\n\n" "$option" >&2; usage >&2; exit 2 ;;
  esac
done

PREFIX=/opt/telepresence-robot
CONFIG_DIR=/etc/telepresence-robot
SERVICE=telepresence-robot
MOTOR_DRIVER=${MOTOR_DRIVER:-explorerhat}
KVS_WEBRTC_REF=${KVS_WEBRTC_REF:-v1.18.1}
SKIP_CAMERA_BUILD=${SKIP_CAMERA_BUILD:-0}
BUILD_JOBS=${BUILD_JOBS:-2}
ROOT_CA_URL=https://www.amazontrust.com/repository/AmazonRootCA1.pem
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }
run() {  # a command that changes the system: executed, or in a dry run printed (shell-quoted)
  if (( DRY_RUN )); then
    local line
    printf -v line '%q ' "$@"
    printf '+ %s\n' "${line% }"
  else
    "$@"
  fi
}

if (( ! DRY_RUN )); then
  [[ $(id -u) -eq 0 ]] || die "run as root: sudo $0 (to see what it would do: $0 --dry-run)"
  command -v apt-get >/dev/null || die "apt-get not found: this script is for Raspberry Pi OS"
fi
case "$MOTOR_DRIVER" in
  explorerhat) DRIVER_PACKAGE="explorerhat==0.5.1" ;;
  motorkit) DRIVER_PACKAGE="adafruit-circuitpython-motorkit==1.6.21" ;;
  simulated) DRIVER_PACKAGE="" ;;
  *) die "MOTOR_DRIVER must be explorerhat, motorkit or simulated, got '$MOTOR_DRIVER'" ;;
esac

say "System packages"
export DEBIAN_FRONTEND=noninteractive
run apt-get update
run apt-get install -y --no-install-recommends \
  python3 python3-venv python3-dev git curl ca-certificates build-essential cmake m4 pkg-config \
  libssl-dev libcurl4-openssl-dev liblog4cplus-dev \
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-tools \
  gstreamer1.0-plugins-base-apps gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly
# The Raspberry Pi camera through libcamera (Raspberry Pi OS repository only).
run apt-get install -y --no-install-recommends gstreamer1.0-libcamera \
  || echo "warning: gstreamer1.0-libcamera not available; a USB camera (v4l2) still works"
if command -v raspi-config >/dev/null; then
  run raspi-config nonint do_i2c 0  # both motor HATs talk I2C
fi

say "User 'robot'"
if ! id robot >/dev/null 2>&1; then
  run useradd --system --home-dir "$PREFIX" --no-create-home --shell /usr/sbin/nologin robot
fi
for group in gpio i2c video; do
  if getent group "$group" >/dev/null; then run usermod -aG "$group" robot; fi
done

say "Application in $PREFIX/app"
run install -d -m 0755 "$PREFIX" "$PREFIX/app/device"
run install -m 0644 "$REPO/device/__init__.py" "$PREFIX/app/device/__init__.py"
run rm -rf "$PREFIX/app/device/robot"
run cp -r "$HERE" "$PREFIX/app/device/robot"
run find "$PREFIX/app" -name __pycache__ -prune -exec rm -rf {} +
run install -m 0644 "$REPO/docs/telepresence_robot_device.md" "$PREFIX/README.md"
run python3 -m venv "$PREFIX/venv"
run "$PREFIX/venv/bin/pip" install --quiet --upgrade pip
# awscrt has no wheel for 32-bit Raspberry Pi OS: pip then compiles it (cmake, several minutes).
run "$PREFIX/venv/bin/pip" install --quiet -r "$HERE/requirements.txt"
if [[ -n "$DRIVER_PACKAGE" ]]; then
  run "$PREFIX/venv/bin/pip" install --quiet "$DRIVER_PACKAGE"
fi

if [[ "$SKIP_CAMERA_BUILD" != 1 ]]; then
  say "Kinesis Video Streams WebRTC SDK $KVS_WEBRTC_REF (IoT credentials enabled; this takes a while)"
  SDK="$PREFIX/src/amazon-kinesis-video-streams-webrtc-sdk-c"
  if [[ ! -d "$SDK/.git" ]]; then
    run install -d -m 0755 "$PREFIX/src"
    run git clone --recursive --depth 1 --branch "$KVS_WEBRTC_REF" \
      https://github.com/awslabs/amazon-kinesis-video-streams-webrtc-sdk-c.git "$SDK"
  else
    run git -C "$SDK" fetch --depth 1 origin tag "$KVS_WEBRTC_REF"
    run git -C "$SDK" checkout --quiet "$KVS_WEBRTC_REF"
    run git -C "$SDK" submodule update --init --recursive
  fi
  run cmake -S "$SDK" -B "$SDK/build" -DIOT_CORE_ENABLE_CREDENTIALS=ON -DBUILD_SAMPLE=ON
  run cmake --build "$SDK/build" --parallel "$BUILD_JOBS"
  if (( DRY_RUN )); then
    SAMPLE="$SDK/build/.../kvsWebrtcClientMasterGstSample"  # found by find after a real build
  else
    SAMPLE=$(find "$SDK/build" -type f -name kvsWebrtcClientMasterGstSample -perm -u+x | head -n 1)
    [[ -n "$SAMPLE" ]] || die "kvsWebrtcClientMasterGstSample was not built (is GStreamer's dev package installed?)"
  fi
  run install -d -m 0755 "$PREFIX/kvs"
  run ln -sfn "$SAMPLE" "$PREFIX/kvs/kvsWebrtcClientMasterGstSample"
fi

say "Configuration in $CONFIG_DIR"
run install -d -m 0750 -o root -g robot "$CONFIG_DIR"
if [[ ! -s "$CONFIG_DIR/AmazonRootCA1.pem" ]]; then
  run curl --fail --silent --show-error --location "$ROOT_CA_URL" -o "$CONFIG_DIR/AmazonRootCA1.pem"
fi
run chmod 0644 "$CONFIG_DIR/AmazonRootCA1.pem"
for file in private.key certificate.pem; do
  if [[ -f "$CONFIG_DIR/$file" ]]; then run chown robot:robot "$CONFIG_DIR/$file"; fi
done
if [[ -f "$CONFIG_DIR/private.key" ]]; then run chmod 0600 "$CONFIG_DIR/private.key"; fi

say "Service $SERVICE"
run install -m 0644 "$HERE/$SERVICE.service" "/etc/systemd/system/$SERVICE.service"
run systemctl daemon-reload
run systemctl enable "$SERVICE"
if [[ -f "$CONFIG_DIR/config.json" && -f "$CONFIG_DIR/certificate.pem" && -f "$CONFIG_DIR/private.key" ]]; then
  run systemctl restart "$SERVICE"
  (( DRY_RUN )) || echo "Started. Follow it with: journalctl -u $SERVICE -f"
else
  cat <<MSG
Almost there. On your computer, with AWS credentials for the account of the robot's stack:
    python -m device.robot provision --stack TelepresenceRobot-<robotName> --out robot-credentials --driver $MOTOR_DRIVER
then copy robot-credentials/{config.json,certificate.pem,private.key} to this Pi and run:
    sudo install -m 0644 -o robot -g robot config.json certificate.pem $CONFIG_DIR/
    sudo install -m 0600 -o robot -g robot private.key $CONFIG_DIR/
    sudo systemctl restart $SERVICE
MSG
fi
