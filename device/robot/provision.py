"""Give a robot its identity: a certificate for the stack's thing, and config.json.

Runs on your computer with your AWS credentials (boto3's usual chain: environment,
``--profile``, SSO ...), never on the robot. Reads the stack outputs below, creates an
active key pair and certificate (AWS IoT keeps no copy of the private key: this is the
only time it can be written), attaches it to the thing and to both policies, and writes:

* ``certificate.pem`` (0644) and ``private.key`` (0600, created with that mode);
* ``config.json`` for the robot, from the stack outputs.

If attaching or writing fails, the new certificate is detached, deactivated and deleted again
and no file is left half written.
AmazonRootCA1.pem is not part of the stack: install.sh downloads it next to config.json
(or fetch it yourself from :data:`~.config.ROOT_CA_URL`); this command makes no request
outside the AWS APIs.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from .config import DEFAULT_CAMERA_BINARY, DEFAULT_CAMERA_CA_CERT, DRIVERS, ROOT_CA_URL

log = logging.getLogger(__name__)

# The stack outputs this command reads (exact OutputKey values).
REQUIRED_OUTPUTS = (
    "ThingName",               # the IoT thing; also client id, topic prefix and signaling channel name
    "IotPolicyName",           # IoT policy: connect / subscribe / receive / publish for this thing
    "RoleAliasPolicyName",     # IoT policy: iot:AssumeRoleWithCertificate on the role alias
    "RoleAlias",               # the role alias name the camera asks the credentials provider for
    "IotDataEndpoint",         # iot:Data-ATS endpoint host
    "IotCredentialsEndpoint",  # iot:CredentialProvider endpoint host
    "SignalingChannelArn",     # the robot's Kinesis Video signaling channel
)
CERTIFICATE_FILE = "certificate.pem"
PRIVATE_KEY_FILE = "private.key"
ROOT_CA_FILE = "AmazonRootCA1.pem"
CONFIG_FILE = "config.json"
OUTPUT_FILES = (PRIVATE_KEY_FILE, CERTIFICATE_FILE, CONFIG_FILE)
STACK_PREFIX = "TelepresenceRobot-"


class ProvisioningError(RuntimeError):
    """Reported to the user as is: says what failed and what state AWS IoT was left in."""


@dataclass(frozen=True)
class Provisioned:
    certificate_id: str
    directory: Path
    config: dict[str, Any]


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except Exception as error:
        if "does not exist" not in str(error):
            raise
        raise ProvisioningError(f"stack {stack_name} not found in this account and region (robot stacks are "
                                f"named {STACK_PREFIX}<robotName>; check --region and --profile)") from None
    if not stacks:
        raise ProvisioningError(f"stack {stack_name} not found")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    missing = [key for key in REQUIRED_OUTPUTS if not outputs.get(key)]
    if missing:
        raise ProvisioningError(f"stack {stack_name} ({stacks[0].get('StackStatus', 'unknown status')}) lacks the "
                                f"output(s) {', '.join(missing)}; is it the telepresence robot stack, fully deployed?")
    return outputs


def channel_name_from_arn(arn: str) -> str:
    """``arn:aws:kinesisvideo:<region>:<account>:channel/<name>/<creation-time>`` -> ``<name>``."""
    resource = arn.split(":", 5)[-1]
    parts = resource.split("/")
    if len(parts) < 2 or parts[0] != "channel" or not parts[1]:
        raise ProvisioningError(f"not a signaling channel ARN: {arn}")
    return parts[1]


DEFAULT_TELEMETRY_INTERVAL_S = 30


def _telemetry_interval(outputs: Mapping[str, str]) -> int:
    raw = outputs.get("TelemetryIntervalSeconds")
    if raw is None:
        return DEFAULT_TELEMETRY_INTERVAL_S
    try:
        return int(raw)
    except ValueError:
        raise ProvisioningError(f"output TelemetryIntervalSeconds is not a whole number: {raw!r}") from None


def robot_config(outputs: Mapping[str, str], *, region: str, driver: str) -> dict[str, Any]:
    """config.json for the robot; paths are relative to the file itself."""
    return {
        "thing_name": outputs["ThingName"],
        "region": region,
        "iot": {
            "endpoint": outputs["IotDataEndpoint"],
            "port": 8883,
            "certificate": CERTIFICATE_FILE,
            "private_key": PRIVATE_KEY_FILE,
            "root_ca": ROOT_CA_FILE,
        },
        "motors": {
            "driver": driver,
            "default_speed": 50,
            "default_duration_ms": 500,
            "dead_man_ms": 1500,
            "invert_left": False,
            "invert_right": False,
        },
        # The stack's silence alarm is sized for this interval; older stacks lack the output.
        "telemetry": {"interval_s": _telemetry_interval(outputs)},
        "camera": {
            "enabled": True,
            "binary": DEFAULT_CAMERA_BINARY,
            "channel_name": channel_name_from_arn(outputs["SignalingChannelArn"]),
            "credentials_endpoint": outputs["IotCredentialsEndpoint"],
            "role_alias": outputs["RoleAlias"],
            "ca_cert": DEFAULT_CAMERA_CA_CERT,
        },
        "log_level": "INFO",
    }


def _write(path: Path, text: str, mode: int) -> None:
    """Create with its final mode from the first byte: a private key is never readable by others, not even
    briefly (O_EXCL: never through a file or link someone else put there)."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, mode)  # the umask may have taken bits away


def _staged(path: Path) -> Path:
    return path.with_name(path.name + ".new")


def provision(stack_name: str, out_dir: Path, *, cloudformation: Any, iot: Any, region: str,
              driver: str = "explorerhat", force: bool = False) -> Provisioned:
    """Create, attach and write; on any failure undo what was created in AWS IoT and on disk.

    The files are written next to their final names first and renamed only once everything
    succeeded, so a failed ``--force`` run leaves the robot's current credentials in place.
    """
    if driver not in DRIVERS:
        raise ProvisioningError(f"driver must be one of {', '.join(DRIVERS)}, got {driver!r}")
    outputs = stack_outputs(cloudformation, stack_name)
    config = robot_config(outputs, region=region, driver=driver)

    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    existing = [str(out_dir / name) for name in OUTPUT_FILES if (out_dir / name).exists()]
    if existing and not force:
        raise ProvisioningError(f"refusing to overwrite {', '.join(existing)} (use --force to replace them; "
                                "the old certificate stays active in AWS IoT until you deactivate it)")

    thing = outputs["ThingName"]
    created = iot.create_keys_and_certificate(setAsActive=True)
    arn, certificate_id = created["certificateArn"], created["certificateId"]
    log.info("created certificate %s", certificate_id)
    contents = {PRIVATE_KEY_FILE: created["keyPair"]["PrivateKey"], CERTIFICATE_FILE: created["certificatePem"],
                CONFIG_FILE: json.dumps(config, indent=2) + "\n"}
    undo: list[tuple[str, Any]] = [
        ("delete the certificate", lambda: iot.delete_certificate(certificateId=certificate_id)),
        ("deactivate the certificate",
         lambda: iot.update_certificate(certificateId=certificate_id, newStatus="INACTIVE")),
    ]
    step = f"attach the certificate to thing {thing}"
    try:
        iot.attach_thing_principal(thingName=thing, principal=arn)
        undo.append((f"detach it from thing {thing}",
                     lambda: iot.detach_thing_principal(thingName=thing, principal=arn)))
        for policy in (outputs["IotPolicyName"], outputs["RoleAliasPolicyName"]):
            step = f"attach policy {policy} to the certificate"
            iot.attach_policy(policyName=policy, target=arn)
            undo.append((f"detach policy {policy}", lambda p=policy: iot.detach_policy(policyName=p, target=arn)))
        step = f"write the files in {out_dir}"
        for name in OUTPUT_FILES:
            _write(_staged(out_dir / name), contents[name], 0o600 if name == PRIVATE_KEY_FILE else 0o644)
        for name in OUTPUT_FILES:
            os.replace(_staged(out_dir / name), out_dir / name)
    except BaseException as error:  # Ctrl+C too: never leave an orphan certificate behind
        _discard_staged(out_dir)
        failed = _roll_back(reversed(undo))
        what = (f"certificate {certificate_id} could not be fully removed again ({'; '.join(failed)}): delete it "
                "in the AWS IoT console" if failed else f"certificate {certificate_id} was removed again")
        raise ProvisioningError(f"could not {step}: {_describe(error)}; {what}") from error
    return Provisioned(certificate_id=certificate_id, directory=out_dir, config=config)


def _discard_staged(out_dir: Path) -> None:
    for name in OUTPUT_FILES:
        try:
            _staged(out_dir / name).unlink(missing_ok=True)
        except OSError as error:  # whatever was in the way is not ours to remove
            log.warning("could not remove %s: %s", error.filename, error.strerror)


def _roll_back(steps: Iterable[tuple[str, Any]]) -> list[str]:
    """Run every undo step, last created first, even after one fails; return the failures."""
    failed = []
    for what, step in steps:
        try:
            step()
        except Exception as error:  # noqa: BLE001 - keep undoing as much as possible
            log.error("rollback: could not %s: %s", what, error)
            failed.append(f"could not {what}")
    return failed


def _describe(error: BaseException) -> str:
    if isinstance(error, OSError) and error.filename:
        return f"{error.strerror}: {error.filename}"
    return str(error) or type(error).__name__


def next_steps(result: Provisioned) -> str:
    d = result.directory
    return "\n".join([
        f"Certificate {result.certificate_id} is active and attached to thing {result.config['thing_name']}.",
        f"Wrote {d / CERTIFICATE_FILE}, {d / PRIVATE_KEY_FILE} (mode 0600) and {d / CONFIG_FILE}.",
        "Next:",
        f"  1. Copy them to the robot:  scp {d}/{CERTIFICATE_FILE} {d}/{PRIVATE_KEY_FILE} {d}/{CONFIG_FILE} "
        "pi@raspberrypi.local:",
        "  2. On the robot:  sudo install -m 0644 -o robot -g robot config.json certificate.pem "
        "/etc/telepresence-robot/ && sudo install -m 0600 -o robot -g robot private.key /etc/telepresence-robot/ "
        "&& sudo systemctl restart telepresence-robot",
        f"  3. {ROOT_CA_FILE}: install.sh downloads it to /etc/telepresence-robot/; elsewhere: "
        f"curl -o {ROOT_CA_FILE} {ROOT_CA_URL}",
        "  4. Delete the private key from this computer once the robot has it.",
    ])


def main(stack_name: str, out_dir: str, *, region: str | None, profile: str | None, driver: str,
         force: bool) -> int:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        session = boto3.Session(profile_name=profile, region_name=region)
        if not session.region_name:
            raise ProvisioningError("no AWS region: pass --region or set AWS_REGION / a profile region")
        result = provision(stack_name, Path(out_dir), cloudformation=session.client("cloudformation"),
                           iot=session.client("iot"), region=session.region_name, driver=driver, force=force)
    except (BotoCoreError, ClientError, OSError) as error:
        raise ProvisioningError(_describe(error)) from error
    print(next_steps(result))
    return 0
