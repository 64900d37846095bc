"""What the AskAroundMe template promises, asserted by intent.

Resources are found by what they are and what refers to them, never by logical id:
functions by their handler string (``ask_around_me.<function>.handler.handler``), a
function's permissions by following its ``Role`` to the policies attached to that role,
tables by their keys, queues by the environment variable, redrive policy or event source
mapping that names them. IAM resources are rendered to readable names (``table/Questions``,
``queue/GeoAnswers``, ``logs/post_question``) so the expected grants read like the
"Function reference" table of docs/ask_around_me.md.
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterable

import pytest
from aws_cdk.assertions import Match

from stacks.suite import ASK_AROUND_ME
from tests.ask_around_me.conftest import COGNITO_ONLY_KEYS, EXTERNAL_AUDIENCE, EXTERNAL_ISSUER
from tests.common.sites import hosted_site
from tests.conftest import project_context, synth_suite
from tests.support.templates import as_list, one, render, resources, role_policy_documents, role_statements

CONTEXT = project_context()["askAroundMe"]
PREFIX = CONTEXT["topicPrefix"]
IDENTITY = "${cognito-identity.amazonaws.com:sub}"
IOT_ARN = "arn:${AWS::Partition}:iot:${AWS::Region}:${AWS::AccountId}:"

API_FUNCTIONS = ("post_question", "post_answer", "list_questions", "get_answers", "get_heatmap",
                 "delete_answer", "open_session")
CONSUMERS = ("save_question", "save_answer", "aggregate_answers", "publish_updates")
DEPLOY_TIME = ("detach_policy_targets",)
FUNCTIONS = API_FUNCTIONS + CONSUMERS + DEPLOY_TIME

ROUTES = {
    "GET /questions": "list_questions",
    "POST /questions": "post_question",
    "GET /questions/{id}/answers": "get_answers",
    "GET /questions/{id}/heatmap": "get_heatmap",
    "POST /answers": "post_answer",
    "DELETE /answers/{questionId}": "delete_answer",
    "POST /realtime/session": "open_session",
}
WRITE_ROUTES = {route for route in ROUTES if route.split()[0] in ("POST", "DELETE")}

# What each function may do beyond writing its own logs and sending traces: the
# "Function reference (env vars and least-privilege IAM)" table, resource by resource.
SQS_CONSUME = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility")
STREAM_READ = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams")


def _grants(*pairs: tuple[Iterable[str] | str, Iterable[str] | str]) -> set[tuple[str, str]]:
    granted = set()
    for actions, targets in pairs:
        for action in [actions] if isinstance(actions, str) else actions:
            for resource in [targets] if isinstance(targets, str) else targets:
                granted.add((action, resource))
    return granted


DOCUMENTED_GRANTS = {
    "post_question": _grants(("sqs:SendMessage", "queue/Questions")),
    "post_answer": _grants(("sqs:SendMessage", ["queue/StarAnswers", "queue/GeoAnswers"]),
                           ("dynamodb:GetItem", "table/Questions")),
    "list_questions": _grants(("dynamodb:Query", "table/Questions/index/byCell")),
    "get_answers": _grants(("dynamodb:Query", "table/Answers"), ("dynamodb:GetItem", "table/Questions"),
                           (["kms:Encrypt", "kms:Decrypt"], "key/PageTokens")),
    "get_heatmap": _grants(("dynamodb:GetItem", "table/Questions")),
    "delete_answer": _grants(("dynamodb:DeleteItem", "table/Answers")),
    "save_question": _grants(("dynamodb:PutItem", "table/Questions"), (SQS_CONSUME, "queue/Questions")),
    "save_answer": _grants(("dynamodb:PutItem", "table/Answers"), ("dynamodb:GetItem", "table/Questions"),
                           (SQS_CONSUME, ["queue/StarAnswers", "queue/GeoAnswers"])),
    "aggregate_answers": _grants(
        (["dynamodb:GetItem", "dynamodb:PutItem"], "table/AggregationLedger"),
        ("dynamodb:UpdateItem", "table/Questions"),
        (STREAM_READ, "table/Answers.StreamArn"),
        ("sqs:SendMessage", "queue/AggregationFailures")),
    "publish_updates": _grants(
        ("iot:Publish", [f"{IOT_ARN}topic/{PREFIX}/geo/*", f"{IOT_ARN}topic/{PREFIX}/questions/*"]),
        (STREAM_READ, "table/Questions.StreamArn"),
        ("sqs:SendMessage", "queue/PublishFailures")),
    # AttachPolicy to a Cognito identity has no resource-level permission.
    "open_session": _grants(("iot:AttachPolicy", "*")),
    # ListTargetsForPolicy is authorized on the policy; DetachPolicy on its target, and a
    # Cognito identity has no resource type.
    "detach_policy_targets": _grants(("iot:ListTargetsForPolicy", "iot-policy/BrowserIotPolicy"),
                                     ("iot:DetachPolicy", "*")),
}
# CDK's SQS grants (grant_send_messages, and the grants SqsEventSource and SqsDlq make)
# add these read-only metadata actions next to the documented ones on the same queue.
CDK_SQS_METADATA = ("sqs:GetQueueAttributes", "sqs:GetQueueUrl")


# -- template walking ------------------------------------------------------------------------

def _target(value: Any) -> str:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` points to."""
    if isinstance(value, dict) and "Ref" in value:
        return value["Ref"]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return value["Fn::GetAtt"][0]
    raise AssertionError(f"not a reference: {value!r}")


def _functions(template_json: dict) -> dict[str, str]:
    """Function name (from the handler ``ask_around_me.<name>.handler.handler``) -> logical id."""
    found = {}
    for logical_id, resource in resources(template_json, "AWS::Lambda::Function").items():
        handler = resource["Properties"].get("Handler", "")
        match = re.fullmatch(r"(?:ask_around_me|browser_iot)\.(\w+)\.handler\.handler", handler)
        if match:
            assert match.group(1) not in found, f"two functions with handler {match.group(0)}"
            found[match.group(1)] = logical_id
    return found


def _function(template_json: dict, name: str) -> dict:
    return template_json["Resources"][_functions(template_json)[name]]["Properties"]


def _env(template_json: dict, name: str) -> dict:
    return _function(template_json, name)["Environment"]["Variables"]


def _role_id(template_json: dict, name: str) -> str:
    role = _function(template_json, name)["Role"]
    assert role["Fn::GetAtt"][1] == "Arn"
    return _target(role)


def _mappings(template_json: dict) -> list[dict]:
    return [r["Properties"] for r in resources(template_json, "AWS::Lambda::EventSourceMapping").values()]


def _mapping_function(template_json: dict, mapping: dict) -> str:
    by_id = {logical_id: name for name, logical_id in _functions(template_json).items()}
    return by_id[_target(mapping["FunctionName"])]


def _stream_mappings(template_json: dict) -> list[dict]:
    return [m for m in _mappings(template_json) if m["EventSourceArn"]["Fn::GetAtt"][1] == "StreamArn"]


def _queue_mappings(template_json: dict) -> list[dict]:
    queues = resources(template_json, "AWS::SQS::Queue")
    return [m for m in _mappings(template_json) if _target(m["EventSourceArn"]) in queues]


def _names(template_json: dict) -> dict[str, str]:
    """Readable names of the tables, queues and function log groups, by logical id."""
    names: dict[str, str] = {}
    for logical_id, table in resources(template_json, "AWS::DynamoDB::GlobalTable").items():
        props = table["Properties"]
        keys = {k["AttributeName"]: k["KeyType"] for k in props["KeySchema"]}
        if any(index["IndexName"] == "byCell" for index in props.get("GlobalSecondaryIndexes", [])):
            names[logical_id] = "table/Questions"
        elif keys == {"questionId": "HASH", "userId": "RANGE"} and "TimeToLiveSpecification" in props:
            names[logical_id] = "table/AggregationLedger"
        elif keys == {"questionId": "HASH", "userId": "RANGE"}:
            names[logical_id] = "table/Answers"
    for function, variable, queue in (("post_question", "QUESTIONS_QUEUE_URL", "Questions"),
                                      ("post_answer", "STAR_ANSWERS_QUEUE_URL", "StarAnswers"),
                                      ("post_answer", "GEO_ANSWERS_QUEUE_URL", "GeoAnswers")):
        queue_id = _target(_env(template_json, function)[variable])
        names[queue_id] = f"queue/{queue}"
        redrive = template_json["Resources"][queue_id]["Properties"].get("RedrivePolicy")
        if redrive:
            names[_target(redrive["deadLetterTargetArn"])] = f"queue/{queue}Dlq"
    for mapping in _stream_mappings(template_json):
        destination = mapping.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        if destination:
            failures = {"aggregate_answers": "AggregationFailures", "publish_updates": "PublishFailures"}
            names[_target(destination)] = f"queue/{failures[_mapping_function(template_json, mapping)]}"
    for logical_id in resources(template_json, "AWS::IoT::Policy"):
        names[logical_id] = "iot-policy/BrowserIotPolicy"
    page_token_key = _env(template_json, "get_answers").get("PAGE_TOKEN_KEY_ARN")
    if page_token_key:
        names[_target(page_token_key)] = "key/PageTokens"
    for name, logical_id in _functions(template_json).items():
        log_group = template_json["Resources"][logical_id]["Properties"].get("LoggingConfig", {}).get("LogGroup")
        if log_group:
            names[_target(log_group)] = f"logs/{name}"
    return names


def _render(value: Any, names: dict[str, str]) -> str:
    """An IAM resource as a readable string: ``table/Answers``, ``table/Answers.StreamArn``,
    ``arn:${AWS::Partition}:iot:...``; an unnamed resource shows as ``?<logical id>``."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        ref = value["Ref"]
        return f"${{{ref}}}" if ref.startswith("AWS::") else f"ref:{names.get(ref, '?' + ref)}"
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        name = names.get(logical_id, f"?{logical_id}")
        return name if attribute == "Arn" else f"{name}.{attribute}"
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_render(part, names) for part in parts)
    raise AssertionError(f"cannot render {value!r}")


def _permissions(template_json: dict, statements: list[dict]) -> set[tuple[str, str]]:
    """(action, resource) pairs the statements allow; anything but plain Allow fails, except
    that KMS statements may carry the encryption-context conditions checked on their own."""
    names = _names(template_json)
    allowed = set()
    for statement in statements:
        assert statement["Effect"] == "Allow", statement
        assert not {"NotAction", "NotResource"} & set(statement), statement
        assert "Condition" not in statement or all(a.startswith("kms:") for a in as_list(statement["Action"])), \
            statement
        for action in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                allowed.add((action, _render(resource, names)))
    return allowed


def _execution_grants(function: str) -> set[tuple[str, str]]:
    return _grants((["logs:CreateLogStream", "logs:PutLogEvents"], f"logs/{function}"),
                   (["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "*"))


def _function_permissions(template_json: dict, function: str) -> set[tuple[str, str]]:
    return _permissions(template_json, role_statements(template_json, _role_id(template_json, function)))


def _by_action(template_json: dict, statements: list[dict]) -> dict[str, set[str]]:
    grouped: dict[str, set[str]] = {}
    for action, resource in _permissions(template_json, statements):
        grouped.setdefault(action, set()).add(resource)
    return grouped


def _alarms(template_json: dict) -> list[dict]:
    return [r["Properties"] for r in resources(template_json, "AWS::CloudWatch::Alarm").values()]


def _notifies_alarm_topic(template_json: dict, alarm: dict) -> bool:
    topic_id, _ = one(template_json, "AWS::SNS::Topic")
    return {"Ref": topic_id} in alarm.get("AlarmActions", [])


@pytest.fixture(scope="module")
def template_json(suite):
    return suite.template_json(ASK_AROUND_ME)


@pytest.fixture(scope="module")
def template(suite):
    return suite.template(ASK_AROUND_ME)


@pytest.fixture(scope="module")
def names(template_json):
    return _names(template_json)


def _queue_id(names: dict[str, str], name: str) -> str:
    [logical_id] = [k for k, v in names.items() if v == f"queue/{name}"]
    return logical_id


def _table_id(names: dict[str, str], name: str) -> str:
    [logical_id] = [k for k, v in names.items() if v == f"table/{name}"]
    return logical_id


WORK_QUEUES = ("Questions", "StarAnswers", "GeoAnswers")
FAILURE_QUEUES = ("QuestionsDlq", "StarAnswersDlq", "GeoAnswersDlq", "AggregationFailures", "PublishFailures")


# -- queues ----------------------------------------------------------------------------------

def test_the_queues_are_three_work_queues_their_dead_letter_queues_and_two_stream_failure_queues(
        template_json, names):
    queue_names = {names.get(k) for k in resources(template_json, "AWS::SQS::Queue")}
    assert queue_names == {f"queue/{q}" for q in WORK_QUEUES + FAILURE_QUEUES}


def test_every_queue_is_encrypted_with_sqs_managed_keys(template_json):
    queues = resources(template_json, "AWS::SQS::Queue")
    assert len(queues) == 8
    for queue in queues.values():
        assert queue["Properties"].get("SqsManagedSseEnabled") is True, queue
        assert "KmsMasterKeyId" not in queue["Properties"]


def test_every_queue_refuses_requests_without_tls(template_json):
    for queue_id in resources(template_json, "AWS::SQS::Queue"):
        denies = [s for policy in resources(template_json, "AWS::SQS::QueuePolicy").values()
                  if {"Ref": queue_id} in policy["Properties"]["Queues"]
                  for s in policy["Properties"]["PolicyDocument"]["Statement"]
                  if s["Effect"] == "Deny"
                  and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
                  and as_list(s["Action"]) == ["sqs:*"]
                  and s["Principal"] in ({"AWS": "*"}, "*")
                  and {"Fn::GetAtt": [queue_id, "Arn"]} in as_list(s["Resource"])]
        assert denies, f"no TLS-only policy on {queue_id}"


def test_each_work_queue_redrives_to_its_own_dead_letter_queue(template_json, names):
    for queue in WORK_QUEUES:
        redrive = template_json["Resources"][_queue_id(names, queue)]["Properties"]["RedrivePolicy"]
        assert _target(redrive["deadLetterTargetArn"]) == _queue_id(names, f"{queue}Dlq")
        assert redrive["deadLetterTargetArn"]["Fn::GetAtt"][1] == "Arn"
        assert 1 <= redrive["maxReceiveCount"] <= 10
    for queue in FAILURE_QUEUES:
        assert "RedrivePolicy" not in template_json["Resources"][_queue_id(names, queue)]["Properties"]


def test_visibility_timeout_is_at_least_six_times_the_consumer_timeout(template_json, names):
    for queue in WORK_QUEUES:
        queue_id = _queue_id(names, queue)
        [consumer] = [_mapping_function(template_json, m) for m in _queue_mappings(template_json)
                      if _target(m["EventSourceArn"]) == queue_id]
        visibility = template_json["Resources"][queue_id]["Properties"]["VisibilityTimeout"]
        assert visibility >= 6 * _function(template_json, consumer)["Timeout"], (queue, consumer)


def test_every_dead_letter_and_on_failure_queue_alarms_on_its_first_message(template_json, names):
    for queue in FAILURE_QUEUES:
        queue_id = _queue_id(names, queue)
        alarms = [a for a in _alarms(template_json)
                  if a.get("MetricName") == "ApproximateNumberOfMessagesVisible" and a.get("Namespace") == "AWS/SQS"
                  and a.get("Dimensions") == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]]
        assert len(alarms) == 1, queue
        [alarm] = alarms
        assert alarm["Threshold"] == 0 and alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert _notifies_alarm_topic(template_json, alarm), queue


# -- event source mappings -------------------------------------------------------------------

def test_queue_mappings_take_batches_of_ten_and_report_item_failures(template_json):
    mappings = _queue_mappings(template_json)
    assert len(mappings) == 3
    for mapping in mappings:
        assert mapping["BatchSize"] == 10
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_save_question_consumes_questions_and_save_answer_both_answer_queues(template_json, names):
    consumers = {names[_target(m["EventSourceArn"])]: _mapping_function(template_json, m)
                 for m in _queue_mappings(template_json)}
    assert consumers == {"queue/Questions": "save_question", "queue/StarAnswers": "save_answer",
                         "queue/GeoAnswers": "save_answer"}


def test_stream_consumers_read_the_answers_and_questions_streams(template_json, names):
    consumers = {_render(m["EventSourceArn"], names): _mapping_function(template_json, m)
                 for m in _stream_mappings(template_json)}
    assert consumers == {"table/Answers.StreamArn": "aggregate_answers",
                         "table/Questions.StreamArn": "publish_updates"}


def test_stream_mappings_bisect_retry_a_bounded_number_of_times_and_keep_failures(template_json, names):
    work_and_dead_letters = {_queue_id(names, q) for q in WORK_QUEUES + ("QuestionsDlq", "StarAnswersDlq",
                                                                            "GeoAnswersDlq")}
    destinations = set()
    for mapping in _stream_mappings(template_json):
        assert mapping["StartingPosition"] == "TRIM_HORIZON"
        assert mapping["BisectBatchOnFunctionError"] is True
        assert 0 < mapping["MaximumRetryAttempts"] <= 10
        assert 60 <= mapping["MaximumRecordAgeInSeconds"] <= 604800
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        destination = mapping["DestinationConfig"]["OnFailure"]["Destination"]
        assert destination["Fn::GetAtt"][1] == "Arn"
        queue_id = _target(destination)
        assert template_json["Resources"][queue_id]["Type"] == "AWS::SQS::Queue"
        assert queue_id not in work_and_dead_letters
        destinations.add(queue_id)
    assert len(destinations) == 2, "each stream has its own on-failure queue"


# -- tables ----------------------------------------------------------------------------------

def test_questions_are_indexed_by_cell_and_creation_time(template_json, names):
    questions = template_json["Resources"][_table_id(names, "Questions")]["Properties"]
    assert questions["KeySchema"] == [{"AttributeName": "questionId", "KeyType": "HASH"}]
    [index] = questions["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "byCell"
    assert index["KeySchema"] == [{"AttributeName": "cell", "KeyType": "HASH"},
                                  {"AttributeName": "created", "KeyType": "RANGE"}]
    assert index["Projection"]["ProjectionType"] == "INCLUDE"
    assert set(index["Projection"]["NonKeyAttributes"]) == {
        "type", "text", "author", "lat", "lng", "answerCount", "totalScore"}


def test_answers_hold_one_item_per_user_per_question(template_json, names):
    answers = template_json["Resources"][_table_id(names, "Answers")]["Properties"]
    assert answers["KeySchema"] == [{"AttributeName": "questionId", "KeyType": "HASH"},
                                    {"AttributeName": "userId", "KeyType": "RANGE"}]


def test_questions_and_answers_stream_new_and_old_images_and_the_ledger_does_not(template_json, names):
    for table in ("Questions", "Answers"):
        props = template_json["Resources"][_table_id(names, table)]["Properties"]
        assert props["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}, table
    assert "StreamSpecification" not in template_json["Resources"][_table_id(names, "AggregationLedger")][
        "Properties"]


def test_the_ledger_expires_tombstones_through_ttl(template_json, names):
    ledger = template_json["Resources"][_table_id(names, "AggregationLedger")]["Properties"]
    assert ledger["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}


def test_every_table_is_encrypted_and_point_in_time_recoverable(template_json):
    tables = resources(template_json, "AWS::DynamoDB::GlobalTable")
    assert len(tables) == 3
    for table in tables.values():
        props = table["Properties"]
        assert props["SSESpecification"]["SSEEnabled"] is True
        assert props["Replicas"], "a global table has at least the stack's region"
        for replica in props["Replicas"]:
            assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_tables_are_retained_and_protected_by_default(template):
    template.all_resources("AWS::DynamoDB::GlobalTable", {
        "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
        "Properties": Match.object_like({"Replicas": [Match.object_like({"DeletionProtectionEnabled": True})]}),
    })


# -- IAM -------------------------------------------------------------------------------------

def _policy_documents(template_json: dict) -> Iterable[tuple[str, dict]]:
    for logical_id, resource in template_json["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IoT::Policy",
                                "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy"):
            yield logical_id, props["PolicyDocument"]
        elif resource["Type"] == "AWS::IAM::Role":
            yield logical_id, props["AssumeRolePolicyDocument"]
            for inline in props.get("Policies", []):
                yield logical_id, inline["PolicyDocument"]
        elif resource["Type"] == "AWS::KMS::Key":
            yield logical_id, props["KeyPolicy"]


def _is_default_key_administration(statement: dict) -> bool:
    """The standard first statement of a KMS key policy, which hands the key's access
    control to the account's IAM policies; without it the key cannot be managed."""
    principal = statement.get("Principal", {})
    return (as_list(statement["Action"]) == ["kms:*"] and set(principal) == {"AWS"}
            and _render(principal["AWS"], {}).endswith(":root"))


def test_no_statement_in_the_stack_allows_a_wildcard_action(template_json):
    checked = 0
    for logical_id, document in _policy_documents(template_json):
        for statement in document["Statement"]:
            if statement["Effect"] != "Allow":
                continue
            checked += 1
            assert "NotAction" not in statement, (logical_id, statement)
            if template_json["Resources"][logical_id]["Type"] == "AWS::KMS::Key" \
                    and _is_default_key_administration(statement):
                continue
            for action in as_list(statement["Action"]):
                assert action != "*" and not action.endswith(":*"), (logical_id, statement)
    assert checked > 30


def test_every_function_has_its_own_role_assumed_only_by_lambda(template_json):
    roles = [_role_id(template_json, f) for f in FUNCTIONS]
    assert len(set(roles)) == len(FUNCTIONS)
    for role_id in roles:
        role = template_json["Resources"][role_id]["Properties"]
        assert role["AssumeRolePolicyDocument"]["Statement"] == [{
            "Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}]
        assert "ManagedPolicyArns" not in role and "Policies" not in role


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_may_write_its_own_logs_and_send_traces(template_json, function):
    execution = _execution_grants(function)
    documents = [d for d in role_policy_documents(template_json, _role_id(template_json, function))
                 if _permissions(template_json, d["Statement"]) == execution]
    assert len(documents) == 1, f"{function} has no policy of exactly its log-group and X-Ray grants"
    assert _function(template_json, function)["TracingConfig"] == {"Mode": "Active"}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_is_granted_exactly_what_the_design_table_lists(template_json, function):
    documented = DOCUMENTED_GRANTS[function]
    tolerated = {(extra, queue) for action, queue in documented if action.startswith("sqs:")
                 for extra in CDK_SQS_METADATA}
    granted = _function_permissions(template_json, function) - _execution_grants(function)
    assert documented <= granted, f"{function} lacks {sorted(documented - granted)}"
    assert granted <= documented | tolerated, f"{function} also holds {sorted(granted - documented - tolerated)}"


def test_the_api_producers_hold_sqs_send_message_and_nothing_else_on_their_queues(template_json):
    for function in ("post_question", "post_answer"):
        sqs = {(a, r) for a, r in _function_permissions(template_json, function) if a.startswith("sqs:")}
        assert sqs == {(a, r) for a, r in DOCUMENTED_GRANTS[function] if a.startswith("sqs:")}, function


def test_post_question_may_only_send_to_the_questions_queue_and_needs_no_kms(template_json):
    granted = _function_permissions(template_json, "post_question") - _execution_grants("post_question")
    assert ("sqs:SendMessage", "queue/Questions") in granted
    assert {resource for _, resource in granted} == {"queue/Questions"}
    assert not any(action.startswith("kms:") for action, _ in granted)


def test_list_questions_may_only_query_the_cell_index(template_json):
    granted = _function_permissions(template_json, "list_questions") - _execution_grants("list_questions")
    assert granted == {("dynamodb:Query", "table/Questions/index/byCell")}


def test_aggregate_answers_never_writes_answers(template_json):
    granted = _function_permissions(template_json, "aggregate_answers")
    assert not {action for action, resource in granted if resource == "table/Answers"}
    assert {resource for action, resource in granted if action == "dynamodb:UpdateItem"} == {"table/Questions"}


def test_publish_updates_publishes_only_to_geo_and_question_topics(template_json):
    granted = _function_permissions(template_json, "publish_updates")
    assert {resource for action, resource in granted if action.startswith("iot:")} == {
        f"{IOT_ARN}topic/{PREFIX}/geo/*", f"{IOT_ARN}topic/{PREFIX}/questions/*"}
    assert {action for action, _ in granted if action.startswith("iot:")} == {"iot:Publish"}


def test_open_session_may_only_attach_iot_policies(template_json):
    granted = _function_permissions(template_json, "open_session") - _execution_grants("open_session")
    assert {action for action, _ in granted} == {"iot:AttachPolicy"}


# -- answers page tokens ---------------------------------------------------------------------

PAGE_TOKEN_CONTEXT_CONDITION = {
    "StringEquals": {"kms:EncryptionContext:purpose": "answers-page"},
    "Null": {"kms:EncryptionContext:questionId": "false"},
    "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["questionId", "purpose"]},
}


def _page_token_key_id(template_json: dict) -> str:
    arn = _env(template_json, "get_answers")["PAGE_TOKEN_KEY_ARN"]
    assert arn["Fn::GetAtt"][1] == "Arn"
    return _target(arn)


def test_page_tokens_are_encrypted_with_a_customer_managed_key_of_the_stack_that_rotates(template, template_json):
    key_id = _page_token_key_id(template_json)
    assert template_json["Resources"][key_id]["Type"] == "AWS::KMS::Key"
    assert template_json["Resources"][key_id]["Properties"]["EnableKeyRotation"] is True
    template.has_resource_properties("AWS::KMS::Key", {
        "EnableKeyRotation": True, "Description": Match.string_like_regexp("page tokens")})


def test_get_answers_may_only_encrypt_and_decrypt_page_tokens_bound_to_a_question(template, template_json):
    key_id = _page_token_key_id(template_json)
    role_id = _role_id(template_json, "get_answers")
    kms_statements = [s for s in role_statements(template_json, role_id)
                      if any(a.startswith("kms:") for a in as_list(s["Action"]))]
    assert kms_statements == [{
        "Action": ["kms:Decrypt", "kms:Encrypt"], "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [key_id, "Arn"]}, "Condition": PAGE_TOKEN_CONTEXT_CONDITION}]
    template.has_resource_properties("AWS::IAM::Policy", {
        "Roles": [{"Ref": role_id}],
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Action": ["kms:Decrypt", "kms:Encrypt"], "Condition": PAGE_TOKEN_CONTEXT_CONDITION})]),
            "Version": "2012-10-17"}})


def test_the_grant_condition_names_the_encryption_context_the_function_sends():
    from lambda_src.ask_around_me.get_answers.logic import encryption_context
    from stacks.ask_around_me.api import PAGE_TOKEN_CONTEXT_KEYS, PAGE_TOKEN_PURPOSE

    context = encryption_context("4a2d1c34-1b7e-4f55-9d7e-2f1d1c0a9b11")
    assert sorted(context) == sorted(PAGE_TOKEN_CONTEXT_KEYS)
    assert context["purpose"] == PAGE_TOKEN_PURPOSE


@pytest.mark.parametrize("function", [f for f in FUNCTIONS if f != "get_answers"])
def test_no_other_function_may_use_a_kms_key(template_json, function):
    assert not [a for a, _ in _function_permissions(template_json, function) if a.startswith("kms:")]


# -- HTTP API --------------------------------------------------------------------------------

def _routes(template_json: dict) -> dict[str, dict]:
    routes = resources(template_json, "AWS::ApiGatewayV2::Route").values()
    return {route["Properties"]["RouteKey"]: route["Properties"] for route in routes}


def test_the_api_is_an_http_api_with_exactly_the_app_routes(template_json):
    _, api = one(template_json, "AWS::ApiGatewayV2::Api")
    assert api["Properties"]["ProtocolType"] == "HTTP"
    assert set(_routes(template_json)) == set(ROUTES)


def test_every_route_needs_a_jwt_from_the_user_pool_for_its_client(template_json):
    authorizer_id, authorizer = one(template_json, "AWS::ApiGatewayV2::Authorizer")
    pool_id, _ = one(template_json, "AWS::Cognito::UserPool")
    client_id, client = one(template_json, "AWS::Cognito::UserPoolClient")
    assert client["Properties"]["UserPoolId"] == {"Ref": pool_id}
    props = authorizer["Properties"]
    assert props["AuthorizerType"] == "JWT"
    assert props["IdentitySource"] == ["$request.header.Authorization"]
    assert props["JwtConfiguration"] == {"Issuer": {"Fn::GetAtt": [pool_id, "ProviderURL"]},
                                         "Audience": [{"Ref": client_id}]}
    for route_key, route in _routes(template_json).items():
        assert route["AuthorizationType"] == "JWT", route_key
        assert route["AuthorizerId"] == {"Ref": authorizer_id}, route_key


def test_each_route_proxies_to_its_function_with_payload_format_two(template_json):
    by_id = {logical_id: name for name, logical_id in _functions(template_json).items()}
    routed = {}
    for route_key, route in _routes(template_json).items():
        assert route["Target"]["Fn::Join"][1][0] == "integrations/"
        integration = template_json["Resources"][_target(route["Target"]["Fn::Join"][1][1])]["Properties"]
        assert integration["IntegrationType"] == "AWS_PROXY", route_key
        assert integration["PayloadFormatVersion"] == "2.0", route_key
        routed[route_key] = by_id[_target(integration["IntegrationUri"])]
    assert routed == ROUTES


def test_cors_allows_exactly_the_web_client_and_the_configured_origins(template_json):
    _, api = one(template_json, "AWS::ApiGatewayV2::Api")
    cors = api["Properties"]["CorsConfiguration"]
    assert [render(origin) for origin in cors["AllowOrigins"]] == [hosted_site(template_json).url,
                                                                   *CONTEXT["allowedOrigins"]]
    assert "*" not in cors["AllowOrigins"]
    assert "authorization" in [h.lower() for h in cors["AllowHeaders"]]


def _stage(template_json: dict) -> tuple[str, dict]:
    return one(template_json, "AWS::ApiGatewayV2::Stage")


def test_the_default_stage_deploys_automatically_and_throttles_from_config(template_json):
    api_id, _ = one(template_json, "AWS::ApiGatewayV2::Api")
    _, stage = _stage(template_json)
    props = stage["Properties"]
    assert props["StageName"] == "$default" and props["AutoDeploy"] is True
    assert props["ApiId"] == {"Ref": api_id}
    assert props["DefaultRouteSettings"] == {"ThrottlingRateLimit": CONTEXT["throttleRateLimit"],
                                             "ThrottlingBurstLimit": CONTEXT["throttleBurstLimit"]}


def test_every_writing_route_is_throttled_to_the_post_limits(template_json):
    route_settings = _stage(template_json)[1]["Properties"]["RouteSettings"]
    assert set(route_settings) == WRITE_ROUTES
    for route_key, settings in route_settings.items():
        assert {k.lower(): v for k, v in settings.items()} == {
            "throttlingratelimit": CONTEXT["postRateLimit"],
            "throttlingburstlimit": CONTEXT["postBurstLimit"]}, route_key


def test_route_throttling_uses_the_cloudformation_property_names(template_json):
    for route_key, settings in _stage(template_json)[1]["Properties"]["RouteSettings"].items():
        assert settings == {"ThrottlingRateLimit": CONTEXT["postRateLimit"],
                            "ThrottlingBurstLimit": CONTEXT["postBurstLimit"]}, route_key


def test_the_stage_is_created_after_the_routes_it_throttles(template_json):
    route_ids = {r["Properties"]["RouteKey"]: k for k, r in resources(
        template_json, "AWS::ApiGatewayV2::Route").items()}
    _, stage = _stage(template_json)
    depends_on = set(as_list(stage.get("DependsOn", [])))
    assert {route_ids[route] for route in stage["Properties"]["RouteSettings"]} <= depends_on


def _access_log_fields(log_format: str) -> dict[str, str]:
    # Numeric fields are written unquoted ("status": $context.status); quote them to parse.
    return json.loads(re.sub(r'(:\s*)(\$context\.[\w.]+)', r'\1"\2"', log_format))


def test_the_stage_writes_a_json_access_log_to_a_log_group_with_retention(template_json):
    access_log = _stage(template_json)[1]["Properties"]["AccessLogSettings"]
    fields = _access_log_fields(access_log["Format"])
    assert fields["requestId"] == "$context.requestId"
    assert fields["routeKey"] == "$context.routeKey"
    assert fields["status"] == "$context.status"
    assert fields["sourceIp"] == "$context.identity.sourceIp"
    assert access_log["DestinationArn"]["Fn::GetAtt"][1] == "Arn"
    log_group = template_json["Resources"][_target(access_log["DestinationArn"])]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == CONTEXT["logRetentionDays"]


# -- real-time access ------------------------------------------------------------------------

def _identity_pool_roles(template_json: dict) -> dict[str, str]:
    _, attachment = one(template_json, "AWS::Cognito::IdentityPoolRoleAttachment")
    return {kind: _target(arn) for kind, arn in attachment["Properties"]["Roles"].items()}


def test_the_identity_pool_admits_signed_in_users_only(template_json):
    pool_id, pool = one(template_json, "AWS::Cognito::IdentityPool")
    assert pool["Properties"]["AllowUnauthenticatedIdentities"] is False
    assert pool["Properties"].get("AllowClassicFlow") is False
    _, attachment = one(template_json, "AWS::Cognito::IdentityPoolRoleAttachment")
    assert attachment["Properties"]["IdentityPoolId"] == {"Ref": pool_id}
    unauthenticated = _identity_pool_roles(template_json).get("unauthenticated")
    if unauthenticated:
        assert role_policy_documents(template_json, unauthenticated) == []


def test_only_authenticated_identities_of_this_pool_assume_the_browser_role(template_json):
    pool_id, _ = one(template_json, "AWS::Cognito::IdentityPool")
    role = template_json["Resources"][_identity_pool_roles(template_json)["authenticated"]]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [{
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Effect": "Allow",
        "Principal": {"Federated": "cognito-identity.amazonaws.com"},
        "Condition": {"StringEquals": {"cognito-identity.amazonaws.com:aud": {"Ref": pool_id}},
                      "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"}},
    }]


BROWSER_TOPICS = (f"{PREFIX}/geo/*", f"{PREFIX}/questions/*", f"{PREFIX}/users/{IDENTITY}", f"{PREFIX}/system")
BROWSER_GRANTS = {
    "iot:Connect": {f"{IOT_ARN}client/{PREFIX}-{IDENTITY}-*"},
    "iot:Subscribe": {f"{IOT_ARN}topicfilter/{topic}" for topic in BROWSER_TOPICS},
    "iot:Receive": {f"{IOT_ARN}topic/{topic}" for topic in BROWSER_TOPICS},
}


def test_browsers_may_connect_as_themselves_subscribe_and_receive_but_never_publish(template_json):
    role_id = _identity_pool_roles(template_json)["authenticated"]
    granted = _by_action(template_json, role_statements(template_json, role_id))
    assert granted == BROWSER_GRANTS
    assert "iot:Publish" not in granted


def test_the_iot_policy_allows_browsers_exactly_what_their_role_allows(template_json):
    _, iot_policy = one(template_json, "AWS::IoT::Policy")
    role_id = _identity_pool_roles(template_json)["authenticated"]
    iot_grants = _by_action(template_json, iot_policy["Properties"]["PolicyDocument"]["Statement"])
    assert iot_grants == _by_action(template_json, role_statements(template_json, role_id))
    assert iot_grants == BROWSER_GRANTS


def test_open_session_attaches_the_iot_policy_for_identities_of_the_pool(template_json):
    env = _env(template_json, "open_session")
    iot_policy_id, _ = one(template_json, "AWS::IoT::Policy")
    pool_id, _ = one(template_json, "AWS::Cognito::IdentityPool")
    _, authorizer = one(template_json, "AWS::ApiGatewayV2::Authorizer")
    user_pool_id, _ = one(template_json, "AWS::Cognito::UserPool")
    assert env["IOT_POLICY_NAME"] == {"Ref": iot_policy_id}
    assert env["IDENTITY_POOL_ID"] == {"Ref": pool_id}
    assert authorizer["Properties"]["JwtConfiguration"]["Issuer"] == {"Fn::GetAtt": [user_pool_id, "ProviderURL"]}
    # The identity pool's name for the user pool, which is the Logins key of its tokens.
    assert env["LOGIN_PROVIDER"] == {"Fn::GetAtt": [user_pool_id, "ProviderName"]}
    assert env["CLIENT_ID_PREFIX"] == PREFIX
    assert json.loads(env["SESSION_TOPICS"])["user"] == f"{PREFIX}/users/{{identityId}}"


def test_the_ats_data_endpoint_is_described_at_deploy_time_and_given_to_the_publisher(template_json):
    endpoint_id, endpoint = one(template_json, "Custom::AWS")
    for phase in ("Create", "Update"):
        call = json.loads(endpoint["Properties"][phase])
        assert (call["service"], call["action"]) == ("Iot", "describeEndpoint")
        assert call["parameters"] == {"endpointType": "iot:Data-ATS"}
    address = {"Fn::GetAtt": [endpoint_id, "endpointAddress"]}
    assert _env(template_json, "publish_updates")["IOT_DATA_ENDPOINT"] == address
    assert _env(template_json, "publish_updates")["TOPIC_PREFIX"] == PREFIX
    assert _env(template_json, "open_session")["IOT_DATA_ENDPOINT"] == address


def _policy_targets_resource(template_json: dict) -> tuple[str, dict]:
    return one(template_json, "Custom::IotPolicyTargets")


def test_a_custom_resource_served_by_detach_policy_targets_names_the_browser_iot_policy(template, template_json):
    iot_policy_id, _ = one(template_json, "AWS::IoT::Policy")
    template.has_resource("Custom::IotPolicyTargets", {"Properties": {
        "ServiceToken": {"Fn::GetAtt": [_functions(template_json)["detach_policy_targets"], "Arn"]},
        "PolicyName": {"Ref": iot_policy_id},
        "ServiceTimeout": Match.any_value()}})


def test_the_custom_resource_depends_on_the_policy_so_it_is_deleted_and_detaches_first(template_json):
    iot_policy_id, _ = one(template_json, "AWS::IoT::Policy")
    _, resource = _policy_targets_resource(template_json)
    assert iot_policy_id in as_list(resource.get("DependsOn", []))


def test_the_custom_resource_keeps_its_function_and_permissions_until_its_delete_has_run(template_json):
    _, resource = _policy_targets_resource(template_json)
    depends_on = set(as_list(resource.get("DependsOn", [])))
    detach_role = _role_id(template_json, "detach_policy_targets")
    permission_policies = {k for k, p in resources(template_json, "AWS::IAM::Policy").items()
                           if {"Ref": detach_role} in p["Properties"]["Roles"]
                           and "iot:DetachPolicy" in json.dumps(p["Properties"]["PolicyDocument"])}
    assert permission_policies and permission_policies <= depends_on
    assert _functions(template_json)["detach_policy_targets"] in depends_on


def test_open_session_is_deleted_before_the_policy_is_detached(template_json):
    resource_id, _ = _policy_targets_resource(template_json)
    connect = template_json["Resources"][_functions(template_json)["open_session"]]
    assert resource_id in as_list(connect.get("DependsOn", []))


def test_cloudformation_stops_waiting_for_the_answer_soon_after_the_function_times_out(template_json):
    _, resource = _policy_targets_resource(template_json)
    timeout = _function(template_json, "detach_policy_targets")["Timeout"]
    assert timeout < int(resource["Properties"]["ServiceTimeout"]) <= timeout + 120


# -- outputs ---------------------------------------------------------------------------------

def test_outputs_tell_clients_where_and_how_to_connect(template_json):
    outputs = {name: output["Value"] for name, output in template_json["Outputs"].items()}
    api_id, _ = one(template_json, "AWS::ApiGatewayV2::Api")
    endpoint_id, _ = one(template_json, "Custom::AWS")
    identity_pool_id, _ = one(template_json, "AWS::Cognito::IdentityPool")
    user_pool_id, _ = one(template_json, "AWS::Cognito::UserPool")
    client_id, _ = one(template_json, "AWS::Cognito::UserPoolClient")
    _, authorizer = one(template_json, "AWS::ApiGatewayV2::Authorizer")
    assert outputs["ApiUrl"] == {"Fn::GetAtt": [api_id, "ApiEndpoint"]}
    assert outputs["IotDataEndpoint"] == {"Fn::GetAtt": [endpoint_id, "endpointAddress"]}
    assert outputs["IdentityPoolId"] == {"Ref": identity_pool_id}
    assert outputs["UserPoolId"] == {"Ref": user_pool_id}
    assert outputs["UserPoolClientId"] == {"Ref": client_id}
    assert outputs["JwtIssuer"] == authorizer["Properties"]["JwtConfiguration"]["Issuer"]
    assert outputs["TopicPrefix"] == PREFIX


# -- alarms ----------------------------------------------------------------------------------

@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_alarms_on_errors(template_json, function):
    function_id = _functions(template_json)[function]
    alarms = [a for a in _alarms(template_json) if a.get("MetricName") == "Errors"
              and a.get("Namespace") == "AWS/Lambda"
              and a.get("Dimensions") == [{"Name": "FunctionName", "Value": {"Ref": function_id}}]]
    assert len(alarms) == 1 and _notifies_alarm_topic(template_json, alarms[0])


@pytest.mark.parametrize("function", ("aggregate_answers", "publish_updates"))
def test_both_stream_consumers_alarm_when_they_fall_behind(template_json, function):
    function_id = _functions(template_json)[function]
    alarms = [a for a in _alarms(template_json) if a.get("MetricName") == "IteratorAge"
              and a.get("Dimensions") == [{"Name": "FunctionName", "Value": {"Ref": function_id}}]]
    assert len(alarms) == 1
    assert alarms[0]["Statistic"] == "Maximum" and _notifies_alarm_topic(template_json, alarms[0])


def test_api_server_errors_alarm(template_json):
    api_id, _ = one(template_json, "AWS::ApiGatewayV2::Api")
    alarms = [a for a in _alarms(template_json) if a.get("MetricName") == "5xx"
              and a.get("Namespace") == "AWS/ApiGateway"
              and {"Name": "ApiId", "Value": {"Ref": api_id}} in a.get("Dimensions", [])]
    assert len(alarms) == 1 and _notifies_alarm_topic(template_json, alarms[0])


def test_every_alarm_notifies_the_alarm_topic_on_alarm_and_recovery(template_json):
    topic_id, _ = one(template_json, "AWS::SNS::Topic")
    for alarm in _alarms(template_json):
        assert {"Ref": topic_id} in alarm["AlarmActions"] and {"Ref": topic_id} in alarm["OKActions"], alarm


# -- an external identity provider, and data removed with the stack ------------------------------

@pytest.fixture(scope="module")
def external_json(external_suite):
    return external_suite.template_json(ASK_AROUND_ME)


def test_an_external_identity_provider_replaces_the_user_pool(external_json):
    for cognito_type in ("AWS::Cognito::UserPool", "AWS::Cognito::UserPoolClient", "AWS::Cognito::UserPoolDomain"):
        assert not resources(external_json, cognito_type), cognito_type
    assert not {"UserPoolId", "UserPoolClientId", "HostedDomain"} & set(external_json["Outputs"])
    assert external_json["Outputs"]["JwtIssuer"]["Value"] == EXTERNAL_ISSUER


def test_the_jwt_authorizer_trusts_the_configured_issuer_and_audience(external_json):
    _, authorizer = one(external_json, "AWS::ApiGatewayV2::Authorizer")
    assert authorizer["Properties"]["JwtConfiguration"] == {"Issuer": EXTERNAL_ISSUER,
                                                            "Audience": EXTERNAL_AUDIENCE}
    assert {route["AuthorizationType"] for route in _routes(external_json).values()} == {"JWT"}


def test_the_identity_pool_federates_the_external_provider_through_an_iam_oidc_provider(external_json):
    provider_id, provider = one(external_json, "AWS::IAM::OIDCProvider")
    assert provider["Properties"]["Url"] == EXTERNAL_ISSUER
    assert provider["Properties"]["ClientIdList"] == EXTERNAL_AUDIENCE
    _, pool = one(external_json, "AWS::Cognito::IdentityPool")
    assert pool["Properties"]["OpenIdConnectProviderARNs"] == [{"Ref": provider_id}]
    assert not pool["Properties"].get("CognitoIdentityProviders")
    assert pool["Properties"]["AllowUnauthenticatedIdentities"] is False


def test_an_auth0_issuer_is_registered_verbatim_and_logs_in_under_its_name_without_the_slash(external_json):
    # IAM and STS compare the token's iss with the provider URL as registered (Auth0's iss ends
    # in "/"); the identity pool's Logins key is that URL without scheme and trailing slash.
    _, provider = one(external_json, "AWS::IAM::OIDCProvider")
    login = _env(external_json, "open_session")["LOGIN_PROVIDER"]
    assert EXTERNAL_ISSUER.endswith("/")
    assert provider["Properties"]["Url"] == EXTERNAL_ISSUER
    assert login == "example.eu.auth0.com"
    assert provider["Properties"]["Url"] == f"https://{login}/"


EXISTING_PROVIDER_ARN = "arn:aws:iam::123456789012:oidc-provider/example.eu.auth0.com/"


@pytest.fixture(scope="module")
def existing_provider_json():
    block = {k: v for k, v in project_context()["askAroundMe"].items() if k not in COGNITO_ONLY_KEYS}
    block.update(identityProvider="external", jwtIssuer=EXTERNAL_ISSUER, jwtAudience=EXTERNAL_AUDIENCE,
                 oidcProviderArn=EXISTING_PROVIDER_ARN)
    return synth_suite(context={"askAroundMe": block}).template_json(ASK_AROUND_ME)


def test_an_existing_oidc_provider_is_referenced_instead_of_created(existing_provider_json):
    assert not resources(existing_provider_json, "AWS::IAM::OIDCProvider")
    _, pool = one(existing_provider_json, "AWS::Cognito::IdentityPool")
    assert pool["Properties"]["OpenIdConnectProviderARNs"] == [EXISTING_PROVIDER_ARN]
    assert _env(existing_provider_json, "open_session")["LOGIN_PROVIDER"] == "example.eu.auth0.com"


def test_tables_are_deleted_with_the_stack_when_data_removal_policy_is_destroy(external_json):
    tables = resources(external_json, "AWS::DynamoDB::GlobalTable")
    assert len(tables) == 3
    for table in tables.values():
        assert table["DeletionPolicy"] == "Delete" and table["UpdateReplacePolicy"] == "Delete"
        assert {r["DeletionProtectionEnabled"] for r in table["Properties"]["Replicas"]} == {False}
