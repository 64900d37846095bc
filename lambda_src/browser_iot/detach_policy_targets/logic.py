"""Deploy-time custom resource: the browser IoT policy leaves no attachment behind. Pure: no boto3.

open_session attaches the policy to Cognito identities at run time, and AWS IoT refuses
to delete a policy that is attached (DeleteConflictException). This resource depends on the
policy, so CloudFormation deletes it first: its Delete detaches every target of the policy.
An Update that names another policy (the old one was replaced) detaches the old policy's
targets and answers a new physical id, so CloudFormation's clean-up Delete of the old
resource runs once more for stragglers. Create has nothing to do.

Everything is idempotent: a target already gone, or a policy already deleted, is success.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from suite_lib import cloudformation
from suite_lib.cloudformation import InvalidRequest


class PolicyGone(LookupError):
    """The policy does not exist (any more): it has no targets."""


class OutOfTime(RuntimeError):
    """The deadline came before every target was detached."""


@dataclass(frozen=True)
class Request:
    request_type: str
    policy_name: str
    old_policy_name: str | None
    physical_resource_id: str | None


def parse_request(event: Any) -> Request:
    request_type = cloudformation.request_type(event)
    properties, old = event.get("ResourceProperties"), event.get("OldResourceProperties")
    policy_name = properties.get("PolicyName") if isinstance(properties, Mapping) else None
    if not isinstance(policy_name, str) or not policy_name:
        raise InvalidRequest("ResourceProperties.PolicyName (the IoT policy name) is required")
    old_policy_name = old.get("PolicyName") if isinstance(old, Mapping) else None
    physical = event.get("PhysicalResourceId")
    return Request(request_type, policy_name, old_policy_name if isinstance(old_policy_name, str) else None,
                   physical if isinstance(physical, str) and physical else None)


def policies_to_clear(request: Request) -> list[str]:
    """The policies whose targets this request detaches."""
    if request.request_type == "Delete":
        return [request.policy_name]
    if request.request_type == "Update" and request.old_policy_name and request.old_policy_name != request.policy_name:
        return [request.old_policy_name]
    return []


def physical_resource_id(request: Request) -> str:
    """One id per policy: a new policy is a new resource, whose old one CloudFormation deletes.
    A Delete answers the id it was given, as CloudFormation requires."""
    if request.request_type == "Delete" and request.physical_resource_id:
        return request.physical_resource_id
    return f"iot-policy-targets/{request.policy_name}"


def all_targets(policy_name: str, list_page: Callable[[str, str | None], tuple[list[str], str | None]],
                time_left: Callable[[], float]) -> list[str]:
    """Every target of the policy, following ``nextMarker``; [] when the policy is gone."""
    targets: list[str] = []
    marker: str | None = None
    while True:
        if time_left() <= 0:
            raise OutOfTime(f"no time left to list the targets of {policy_name}; delete again to go on")
        try:
            page, marker = list_page(policy_name, marker)
        except PolicyGone:
            return []
        targets.extend(page)
        if not marker:
            return targets


def detach_every_target(policy_name: str, *, list_page: Callable[[str, str | None], tuple[list[str], str | None]],
                        detach_all: Callable[[str, Iterable[str]], int],
                        time_left: Callable[[], float], chunk: int = 100) -> int:
    """Detach until a listing comes back empty (identities attached meanwhile are caught by the
    next round); returns how many detachments took place. ``detach_all`` detaches a chunk and
    counts those done, skipping targets already gone; ``time_left`` is the seconds left before
    the answer is due, checked before every chunk."""
    detached = 0
    while True:
        targets = all_targets(policy_name, list_page, time_left)
        if not targets:
            return detached
        for start in range(0, len(targets), chunk):
            if time_left() <= 0:
                raise OutOfTime(f"{len(targets) - start} targets of {policy_name} are still attached "
                                f"({detached} detached); delete again to go on")
            detached += detach_all(policy_name, targets[start:start + chunk])


