"""The deploy-time custom resource that detaches the browser IoT policy before it is deleted.

The detaching runs against moto's IoT (Cognito identities and a certificate holding the
policy); CloudFormation's response protocol against a local HTTP server standing in for the
presigned ResponseURL. moto's ListTargetsForPolicy returns one page, so the paging is driven
through a lister that pages at the edge.
"""
from __future__ import annotations

import json
from typing import Any, Iterator

import boto3
import pytest
from botocore.stub import Stubber

from lambda_src.browser_iot.detach_policy_targets import handler as detach
from lambda_src.browser_iot.detach_policy_targets import logic
from suite_lib import cloudformation as cloudformation_protocol
from tests.support.cloudformation import CloudFormationStandIn
from tests.support.cloudformation import cloudformation_stand_in as running_stand_in
from tests.support.lambda_context import FakeLambdaContext

from .conftest import REGION

POLICY = "AskAroundMeBrowsers"
EMPTY_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]}


@pytest.fixture
def cloudformation() -> Iterator[CloudFormationStandIn]:
    with running_stand_in() as stand_in:
        yield stand_in


@pytest.fixture
def iot(world):
    detach.iot.create_policy(policyName=POLICY, policyDocument=json.dumps(EMPTY_POLICY))
    return detach.iot


def _identities(world, count: int) -> list[str]:
    client = boto3.client("cognito-identity", region_name=REGION)
    pool = client.create_identity_pool(IdentityPoolName="browsers", AllowUnauthenticatedIdentities=False)
    return [client.get_id(IdentityPoolId=pool["IdentityPoolId"], Logins={"x": f"token-{n}"})["IdentityId"]
            for n in range(count)]


@pytest.fixture
def attached(world, iot):
    """Five Cognito identities and one certificate holding the policy."""
    targets = _identities(world, 5)
    targets.append(iot.create_keys_and_certificate(setAsActive=True)["certificateArn"])
    for target in targets:
        iot.attach_policy(policyName=POLICY, target=target)
    return targets


def _event(cloudformation, request_type: str, policy: str = POLICY, **extra: Any) -> dict[str, Any]:
    return {"RequestType": request_type, "ResponseURL": cloudformation.url,
            "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/AskAroundMe/guid",
            "RequestId": "request-1", "LogicalResourceId": "BrowserPolicyTargets",
            "ResourceType": "Custom::IotPolicyTargets",
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:detach",
            "ResourceProperties": {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:detach",
                                   "PolicyName": policy}, **extra}


def _targets(iot, policy: str = POLICY) -> list[str]:
    return iot.list_targets_for_policy(policyName=policy)["targets"]


def _run(event, remaining_ms: int = 300_000) -> None:
    detach.handler(event, FakeLambdaContext(remaining_ms=remaining_ms))


# -- what the resource does -------------------------------------------------------------------

def test_delete_detaches_every_identity_and_certificate_so_the_policy_can_be_deleted(iot, attached,
                                                                                    cloudformation):
    assert len(_targets(iot)) == 6
    _run(_event(cloudformation, "Delete", PhysicalResourceId=f"iot-policy-targets/{POLICY}"))

    assert _targets(iot) == []
    assert [a["Status"] for a in cloudformation.answers] == ["SUCCESS"]
    iot.delete_policy(policyName=POLICY)  # moto raises DeleteConflictException while attached


def test_delete_twice_succeeds_twice(iot, attached, cloudformation):
    event = _event(cloudformation, "Delete", PhysicalResourceId=f"iot-policy-targets/{POLICY}")
    _run(event)
    _run(event)
    assert [a["Status"] for a in cloudformation.answers] == ["SUCCESS", "SUCCESS"]
    assert _targets(iot) == []


def test_delete_succeeds_when_the_policy_is_already_gone(iot, cloudformation):
    _run(_event(cloudformation, "Delete", policy="NoSuchPolicy", PhysicalResourceId="iot-policy-targets/NoSuchPolicy"))
    assert [a["Status"] for a in cloudformation.answers] == ["SUCCESS"]


def test_a_target_already_detached_when_its_turn_comes_is_skipped(iot, attached):
    iot.detach_policy(policyName=POLICY, target=attached[0])
    assert detach._detach_all(POLICY, attached) == len(attached) - 1
    assert _targets(iot) == []


def test_create_detaches_nothing_and_names_the_resource_after_its_policy(iot, attached, cloudformation):
    _run(_event(cloudformation, "Create"))
    [answer] = cloudformation.answers
    assert (answer["Status"], answer["PhysicalResourceId"]) == ("SUCCESS", f"iot-policy-targets/{POLICY}")
    assert len(_targets(iot)) == 6


def test_an_update_of_the_same_policy_detaches_nothing_and_keeps_the_physical_id(iot, attached, cloudformation):
    _run(_event(cloudformation, "Update", PhysicalResourceId=f"iot-policy-targets/{POLICY}",
                OldResourceProperties={"PolicyName": POLICY}))
    [answer] = cloudformation.answers
    assert (answer["Status"], answer["PhysicalResourceId"]) == ("SUCCESS", f"iot-policy-targets/{POLICY}")
    assert len(_targets(iot)) == 6


def test_an_update_to_a_replacement_policy_detaches_the_old_one_and_answers_a_new_physical_id(
        world, iot, attached, cloudformation):
    iot.create_policy(policyName="Replacement", policyDocument=json.dumps(EMPTY_POLICY))
    iot.attach_policy(policyName="Replacement", target=attached[0])
    _run(_event(cloudformation, "Update", policy="Replacement", PhysicalResourceId=f"iot-policy-targets/{POLICY}",
                OldResourceProperties={"PolicyName": POLICY}))
    [answer] = cloudformation.answers
    assert (answer["Status"], answer["PhysicalResourceId"]) == ("SUCCESS", "iot-policy-targets/Replacement")
    assert _targets(iot) == []
    assert _targets(iot, "Replacement") == [attached[0]]


def test_targets_are_listed_page_by_page_and_attachments_made_meanwhile_are_caught():
    pages = {None: (["a", "b"], "m1"), "m1": (["c"], "m2"), "m2": (["d"], None)}
    attached = {"a", "b", "c", "d"}
    late_arrival = ["e"]

    def list_page(policy, marker):
        if not attached:
            return [], None
        if marker is None and not pages:
            return sorted(attached), None
        return pages.pop(marker)

    def detach_all(policy, targets):
        attached.difference_update(targets)
        if late_arrival:  # someone connects while the first round runs
            attached.add(late_arrival.pop())
        return len(targets)

    assert logic.detach_every_target(POLICY, list_page=list_page, detach_all=detach_all, time_left=lambda: 60) == 5
    assert attached == set()


# -- deadlines and failures: CloudFormation always gets an answer --------------------------------

def test_running_out_of_time_answers_failed_with_what_is_left_instead_of_timing_out(iot, attached, cloudformation):
    _run(_event(cloudformation, "Delete", PhysicalResourceId=f"iot-policy-targets/{POLICY}"),
         remaining_ms=int(detach.ANSWER_RESERVE_S * 1000) - 1)
    [answer] = cloudformation.answers
    assert answer["Status"] == "FAILED"
    assert "OutOfTime" in answer["Reason"] and "delete again" in answer["Reason"]
    assert answer["PhysicalResourceId"] == f"iot-policy-targets/{POLICY}"


def test_the_deadline_is_checked_before_every_chunk_of_detachments():
    clock = iter([5.0, 5.0, 0.0])
    detached: list[str] = []

    def detach_all(policy, targets):
        detached.extend(targets)
        return len(targets)

    with pytest.raises(logic.OutOfTime, match="2 targets of AskAroundMeBrowsers are still attached"):
        logic.detach_every_target(POLICY, list_page=lambda policy, marker: (["a", "b", "c", "d"], None),
                                  detach_all=detach_all, time_left=lambda: next(clock), chunk=2)
    assert detached == ["a", "b"]


def test_an_aws_error_is_answered_as_a_failure_with_its_reason(iot, attached, cloudformation):
    with Stubber(detach.iot) as stub:
        stub.add_client_error("list_targets_for_policy", service_error_code="AccessDeniedException",
                              service_message="not authorized to perform iot:ListTargetsForPolicy")
        _run(_event(cloudformation, "Delete", PhysicalResourceId=f"iot-policy-targets/{POLICY}"))
    [answer] = cloudformation.answers
    assert answer["Status"] == "FAILED"
    assert "AccessDeniedException" in answer["Reason"]


@pytest.mark.parametrize("properties", [{}, {"PolicyName": ""}, {"PolicyName": 7}], ids=["missing", "empty", "number"])
def test_a_request_without_a_policy_name_is_answered_as_a_failure(cloudformation, properties):
    event = {**_event(cloudformation, "Create"), "ResourceProperties": properties}
    _run(event)
    [answer] = cloudformation.answers
    assert answer["Status"] == "FAILED" and "PolicyName" in answer["Reason"]


def test_an_unknown_request_type_is_answered_as_a_failure(cloudformation):
    _run(_event(cloudformation, "Rollback"))
    [answer] = cloudformation.answers
    assert answer["Status"] == "FAILED" and "RequestType" in answer["Reason"]


# -- the response protocol ------------------------------------------------------------------------

def test_the_answer_is_a_put_of_the_documented_fields_copied_from_the_request(iot, cloudformation):
    event = _event(cloudformation, "Create")
    _run(event)
    [request] = cloudformation.requests
    assert request["path"] == "/presigned/response?X-Amz-Signature=abc"
    assert request["headers"].get("Content-Type") == ""
    answer = json.loads(request["body"])
    assert set(answer) == {"Status", "Reason", "PhysicalResourceId", "StackId", "RequestId", "LogicalResourceId"}
    assert {k: answer[k] for k in ("StackId", "RequestId", "LogicalResourceId")} == {
        k: event[k] for k in ("StackId", "RequestId", "LogicalResourceId")}


def test_an_answer_with_a_huge_reason_stays_within_cloudformations_4096_bytes():
    body = cloudformation_protocol.response_body({"StackId": "s" * 900, "RequestId": "r", "LogicalResourceId": "l"},
                               success=False, reason="x" * 100_000, physical_id="p" * 5000)
    assert len(body) <= 4096
    assert json.loads(body)["Status"] == "FAILED"


def test_a_failed_delivery_of_the_answer_is_retried(iot, cloudformation, monkeypatch):
    monkeypatch.setattr(detach.time, "sleep", lambda seconds: None)
    cloudformation.failures = 1
    _run(_event(cloudformation, "Create"))
    assert [a["Status"] for a in cloudformation.answers] == ["SUCCESS", "SUCCESS"]


def test_an_answer_that_cannot_be_delivered_fails_the_invocation_so_that_lambda_retries_it(iot, cloudformation,
                                                                                           monkeypatch):
    monkeypatch.setattr(detach.time, "sleep", lambda seconds: None)
    cloudformation.failures = cloudformation_protocol.RESPONSE_ATTEMPTS
    with pytest.raises(OSError, match="500"):
        _run(_event(cloudformation, "Create"))
    assert len(cloudformation.requests) == cloudformation_protocol.RESPONSE_ATTEMPTS
