"""What the PdfPipeline template promises, asserted by intent.

Resources are found through the stack's own constructs (``stack.get_logical_id``) or by their
properties, never by logical ids written here. The default configuration is the session suite's
synth; one more synth (inference off, auto-ingest on, ``destroy``) covers the switches.
"""
from __future__ import annotations

import json
from types import SimpleNamespace

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Capture, Match, Template

from lambda_src.pdf_pipeline.db.migration_files import fingerprint as migrations_fingerprint
from lambda_src.pdf_pipeline.worker import service as worker_service
from stacks.common.nag import apply_quality_gates
from stacks.pdf_pipeline.api import START_BATCH_SCHEMA
from stacks.pdf_pipeline.config import PdfPipelineConfig
from stacks.pdf_pipeline.database import APP_USER
from stacks.pdf_pipeline.inference import INFERENCE_REQUEST_SCHEMA, grant_model_read
from stacks.pdf_pipeline.queues import FAILSAFE_ORIGINS
from stacks.pdf_pipeline.stack import PdfPipelineStack
from stacks.suite import PDF_PIPELINE, suite_app
from tests.conftest import project_context
from tests.support.templates import as_list, properties_of, render, resources, role_statements

FOURTEEN_DAYS = 14 * 24 * 3600


@pytest.fixture(scope="module")
def pipeline(suite):
    """The default stack: its constructs, its template and the synthesized assembly folder."""
    stack: PdfPipelineStack = suite.stacks[PDF_PIPELINE]
    template_json = suite.template_json(PDF_PIPELINE)
    return SimpleNamespace(stack=stack, json=template_json, template=Template.from_json(template_json),
                           outdir=suite.outdir)


@pytest.fixture(scope="module")
def switched(tmp_path_factory):
    """PdfPipeline alone with every switch the other way: inference off, auto-ingest on, destroy."""
    context = project_context()
    context["aws:cdk:bundling-stacks"] = []
    context["pdfPipeline"] = {**context["pdfPipeline"], "dataRemovalPolicy": "destroy",
                              "inference": {"enabled": False},
                              "autoIngest": {"enabled": True, "prefix": "incoming/"}}
    app = suite_app(context=context, outdir=str(tmp_path_factory.mktemp("pdf-switched")))
    stack = PdfPipelineStack(app, PDF_PIPELINE, config=PdfPipelineConfig.from_context(app.node))
    apply_quality_gates(app)
    template = Template.from_stack(stack)  # synthesizes: cdk-nag fails it on any unacknowledged finding
    return SimpleNamespace(stack=stack, json=template.to_json(), template=template)


def logical_id(pipeline, construct) -> str:
    element = construct if isinstance(construct, cdk.CfnElement) else construct.node.default_child
    return pipeline.stack.get_logical_id(element)


def properties(pipeline, construct) -> dict:
    return pipeline.json["Resources"][logical_id(pipeline, construct)]["Properties"]


def statements_of(pipeline, role) -> list[dict]:
    return role_statements(pipeline.json, logical_id(pipeline, role))


def granted(pipeline, role, action: str) -> list[str]:
    """Every resource (rendered as text) on which ``role`` is allowed ``action``."""
    return sorted(render(resource) for statement in statements_of(pipeline, role)
                  if statement["Effect"] == "Allow" and action in as_list(statement["Action"])
                  for resource in as_list(statement["Resource"]))


def arn_text(pipeline, value) -> str:
    return render(pipeline.stack.resolve(value))


# --- queues -------------------------------------------------------------------------------

def test_every_stage_queue_sends_its_failures_to_a_dead_letter_queue_that_alarms(pipeline):
    alarmed = {json.dumps(a["Dimensions"]) for a in properties_of(pipeline.json, "AWS::CloudWatch::Alarm")
               if a.get("MetricName") == "ApproximateNumberOfMessagesVisible" and a["Threshold"] == 0
               and a["AlarmActions"]}
    for name, queue in pipeline.stack.queues.by_name.items():
        redrive = properties(pipeline, queue.queue)["RedrivePolicy"]
        assert redrive["deadLetterTargetArn"] == pipeline.stack.resolve(queue.dead_letter_queue.queue_arn), name
        dlq_dimension = [{"Name": "QueueName", "Value": pipeline.stack.resolve(queue.dead_letter_queue.queue_name)}]
        assert json.dumps(dlq_dimension) in alarmed, name


def test_the_stage_queues_are_the_contracts(pipeline):
    assert set(pipeline.stack.queues.by_name) == {
        "list", "ingest", "large", "small", "single_page", "converted_image", "audit"}


def test_stage_queues_keep_their_messages_for_fourteen_days(pipeline):
    for queue in pipeline.stack.queues.by_name.values():
        assert properties(pipeline, queue.queue)["MessageRetentionPeriod"] == FOURTEEN_DAYS


def test_the_list_queue_is_fifo_with_explicit_deduplication_and_a_fifo_dead_letter_queue(pipeline):
    queues = pipeline.stack.queues
    listing = properties(pipeline, queues.list.queue)
    assert listing["FifoQueue"] is True and listing["ContentBasedDeduplication"] is False
    assert properties(pipeline, queues.list.dead_letter_queue)["FifoQueue"] is True
    assert all("FifoQueue" not in properties(pipeline, q.queue) for n, q in queues.by_name.items() if n != "list")


def test_the_quarantine_queue_is_terminal_and_alarms_on_its_first_message(pipeline):
    quarantine = pipeline.stack.queues.quarantine
    queue = properties(pipeline, quarantine.queue)
    assert "RedrivePolicy" not in queue and queue["MessageRetentionPeriod"] == FOURTEEN_DAYS
    pipeline.template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "ApproximateNumberOfMessagesVisible", "Threshold": 0,
        "ComparisonOperator": "GreaterThanThreshold",
        "Dimensions": [{"Name": "QueueName", "Value": pipeline.stack.resolve(quarantine.queue.queue_name)}],
        "AlarmActions": [pipeline.stack.resolve(pipeline.stack.alarm_topic.topic.topic_arn)]})


def test_every_consumer_reports_partial_batch_failures_within_its_configured_concurrency(pipeline):
    limits = PdfPipelineConfig.from_context(pipeline.stack.node).max_concurrency
    expected = {"list": limits["list"], "ingest": limits["classify"], "small": limits["splitSmall"],
                "single_page": limits["convertPage"], "converted_image": limits["invokeModel"],
                "audit": limits["writeAudit"]}
    mappings = {json.dumps(m["EventSourceArn"]): m for m in properties_of(pipeline.json,
                                                                           "AWS::Lambda::EventSourceMapping")}
    assert len(mappings) == len(expected)
    for name, limit in expected.items():
        queue_arn = pipeline.stack.resolve(pipeline.stack.queues.by_name[name].queue.queue_arn)
        mapping = mappings[json.dumps(queue_arn)]
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"], name
        assert mapping["ScalingConfig"] == {"MaximumConcurrency": limit}, name


def test_the_audit_writer_takes_many_events_per_transaction_and_waits_for_the_migration(pipeline):
    functions, database = pipeline.stack.functions, pipeline.stack.database
    [(mapping_id, mapping)] = [
        (key, r) for key, r in resources(pipeline.json, "AWS::Lambda::EventSourceMapping").items()
        if r["Properties"]["EventSourceArn"] == pipeline.stack.resolve(pipeline.stack.queues.audit.queue.queue_arn)]
    assert mapping["Properties"]["BatchSize"] == 100
    assert mapping["Properties"]["FunctionName"] == pipeline.stack.resolve(functions.write_audit.function.function_name)
    assert logical_id(pipeline, database.migration) in mapping["DependsOn"]


def test_every_stage_queue_alarms_when_its_oldest_message_waits_too_long(pipeline):
    minutes = PdfPipelineConfig.from_context(pipeline.stack.node).queue_age_alarm_minutes
    watched = [a["Dimensions"][0]["Value"] for a in properties_of(pipeline.json, "AWS::CloudWatch::Alarm")
               if a.get("MetricName") == "ApproximateAgeOfOldestMessage" and a["Threshold"] == minutes * 60]
    assert sorted(map(json.dumps, watched)) == sorted(
        json.dumps(pipeline.stack.resolve(q.queue.queue_name)) for q in pipeline.stack.queues.by_name.values())


# --- Fargate workers ----------------------------------------------------------------------

def _upper_scaling_alarm(pipeline, service) -> dict:
    target = service.node.find_child("TaskCount").node.find_child("Target")
    policy = target.node.find_child("ScaleOnBacklog")
    return properties(pipeline, policy.upper_alarm)


def test_both_workers_start_at_zero_tasks_and_scale_between_zero_and_their_maximum(pipeline):
    config = PdfPipelineConfig.from_context(pipeline.stack.node)
    for service, maximum in ((pipeline.stack.containers.large, config.large_worker.max_tasks),
                             (pipeline.stack.containers.failsafe, config.failsafe_worker.max_tasks)):
        assert properties(pipeline, service)["DesiredCount"] == 0
        pipeline.template.has_resource_properties("AWS::ApplicationAutoScaling::ScalableTarget", {
            "MinCapacity": 0, "MaxCapacity": maximum, "ScalableDimension": "ecs:service:DesiredCount",
            "ResourceId": Match.object_like({"Fn::Join": Match.array_with([
                Match.array_with([pipeline.stack.resolve(service.service_name)])])})})


def test_the_large_worker_scales_on_visible_plus_in_flight_messages_of_the_large_queue(pipeline):
    alarm = _upper_scaling_alarm(pipeline, pipeline.stack.containers.large)
    large = pipeline.stack.resolve(pipeline.stack.queues.large.queue.queue_name)
    metrics = [m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m]
    watched = {(m["MetricName"], json.dumps(m["Dimensions"][0]["Value"])) for m in metrics}
    assert watched == {("ApproximateNumberOfMessagesVisible", json.dumps(large)),
                       ("ApproximateNumberOfMessagesNotVisible", json.dumps(large))}
    [expression] = [m["Expression"] for m in alarm["Metrics"] if "Expression" in m]
    assert expression.count("FILL(") == 2 and "+" in expression
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and alarm["Threshold"] == 1


def test_the_failsafe_scales_on_the_dead_letter_queues_it_drains(pipeline):
    alarm = _upper_scaling_alarm(pipeline, pipeline.stack.containers.failsafe)
    watched = {json.dumps(m["MetricStat"]["Metric"]["Dimensions"][0]["Value"])
               for m in alarm["Metrics"] if "MetricStat" in m}
    sources = pipeline.stack.queues.failsafe_sources
    assert set(sources) == set(FAILSAFE_ORIGINS) == {"ingest", "large", "small", "single_page"}
    assert watched == {json.dumps(pipeline.stack.resolve(q.dead_letter_queue.queue_name)) for q in sources.values()}


def test_workers_scale_to_zero_when_their_queues_publish_no_metrics(pipeline):
    for service in pipeline.stack.containers.services:
        policy = service.node.find_child("TaskCount").node.find_child("Target").node.find_child("ScaleOnBacklog")
        lower = properties(pipeline, policy.lower_alarm)
        assert lower["TreatMissingData"] == "breaching" and lower["Threshold"] == 0


def test_workers_run_on_arm64_with_task_storage_from_config_and_a_read_only_root(pipeline):
    config = PdfPipelineConfig.from_context(pipeline.stack.node)
    for service, mode, storage in ((pipeline.stack.containers.large, "large", config.large_worker),
                                   (pipeline.stack.containers.failsafe, "failsafe", config.failsafe_worker)):
        task = properties(pipeline, service.task_definition)
        assert task["RuntimePlatform"]["CpuArchitecture"] == "ARM64"
        assert task["EphemeralStorage"] == {"SizeInGiB": storage.ephemeral_storage_gib}
        [container] = task["ContainerDefinitions"]
        assert container["Command"] == ["--mode", mode]
        assert container["ReadonlyRootFilesystem"] is True
        assert {"Name": "TMPDIR", "Value": "/scratch"} in container["Environment"]


def test_workers_get_public_ips_behind_a_security_group_without_inbound_rules(pipeline):
    group = pipeline.stack.containers.security_group
    assert "SecurityGroupIngress" not in properties(pipeline, group)
    group_id = pipeline.stack.resolve(group.security_group_id)
    assert not [r for r in properties_of(pipeline.json, "AWS::EC2::SecurityGroupIngress") if r["GroupId"] == group_id]
    for service in pipeline.stack.containers.services:
        network = properties(pipeline, service)["NetworkConfiguration"]["AwsvpcConfiguration"]
        assert network["AssignPublicIp"] == "ENABLED"
        assert network["Subnets"] == [pipeline.stack.resolve(s.subnet_id)
                                      for s in pipeline.stack.network.vpc.public_subnets]


def test_the_worker_image_is_built_at_deploy_time_from_the_repository_dockerfile_for_arm64(pipeline):
    manifest = json.loads((pipeline.outdir / f"{PDF_PIPELINE}.assets.json").read_text())
    [image] = manifest["dockerImages"].values()
    assert image["source"]["dockerFile"] == "containers/pdf_worker/Dockerfile"
    assert image["source"]["platform"] == "linux/arm64"


def test_the_image_build_context_holds_only_the_packages_and_the_container_folder(pipeline):
    manifest = json.loads((pipeline.outdir / f"{PDF_PIPELINE}.assets.json").read_text())
    [image] = manifest["dockerImages"].values()
    context = pipeline.outdir / image["source"]["directory"]
    files = [path.relative_to(context).as_posix() for path in context.rglob("*") if path.is_file()]
    assert {"containers/pdf_worker/Dockerfile", "lambda_src/pdf_pipeline/messages.py",
            "lambda_src/suite_lib/strict_json.py"} <= set(files)
    allowed = ("lambda_src/pdf_pipeline/", "lambda_src/suite_lib/", "containers/pdf_worker/")
    assert all(f.startswith(allowed) or f == ".dockerignore" for f in files), files
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]


# --- database -----------------------------------------------------------------------------

def test_the_proxy_requires_iam_authentication_end_to_end_and_tls(pipeline):
    proxy = properties(pipeline, pipeline.stack.database.proxy)
    assert proxy["DefaultAuthScheme"] == "IAM_AUTH" and proxy["RequireTLS"] is True
    # No secret the proxy could log in with: IAM is the only way in.
    assert all(auth.get("AuthScheme") != "SECRETS" for auth in proxy.get("Auth", []))


def test_the_cluster_is_serverless_v2_encrypted_iam_enabled_protected_with_a_managed_rotating_secret(pipeline):
    config = PdfPipelineConfig.from_context(pipeline.stack.node).database
    cluster = properties(pipeline, pipeline.stack.database.cluster)
    assert cluster["ServerlessV2ScalingConfiguration"] == {"MinCapacity": config.min_capacity,
                                                           "MaxCapacity": config.max_capacity}
    assert cluster["StorageEncrypted"] is True and cluster["EnableIAMDatabaseAuthentication"] is True
    assert cluster["ManageMasterUserPassword"] is True and "MasterUserPassword" not in cluster
    assert cluster["DeletionProtection"] is True
    resource = pipeline.json["Resources"][logical_id(pipeline, pipeline.stack.database.cluster)]
    assert resource["DeletionPolicy"] == "Retain"


def test_the_database_and_its_proxy_are_in_the_isolated_subnets(pipeline):
    isolated = [pipeline.stack.resolve(s.subnet_id) for s in pipeline.stack.network.vpc.isolated_subnets]
    assert properties(pipeline, pipeline.stack.database.proxy)["VpcSubnetIds"] == isolated
    [group] = properties_of(pipeline.json, "AWS::RDS::DBSubnetGroup")
    assert group["SubnetIds"] == isolated


def _ingress_sources(pipeline, group) -> set[str]:
    group_id = pipeline.stack.resolve(group.security_group_id)
    return {json.dumps(rule["SourceSecurityGroupId"]) for rule in properties_of(pipeline.json,
                                                                                "AWS::EC2::SecurityGroupIngress")
            if rule["GroupId"] == group_id}


def test_aurora_admits_only_the_proxy_and_the_migration_and_the_proxy_only_the_database_clients(pipeline):
    database, functions = pipeline.stack.database, pipeline.stack.functions
    group_ids = {name: json.dumps(pipeline.stack.resolve(group.security_group_id)) for name, group in (
        ("proxy", database.proxy_security_group), ("migration", functions.migration_client),
        ("clients", functions.database_clients))}
    assert _ingress_sources(pipeline, database.cluster_security_group) == {group_ids["proxy"], group_ids["migration"]}
    assert _ingress_sources(pipeline, database.proxy_security_group) == {group_ids["clients"]}
    for group in (database.cluster_security_group, database.proxy_security_group):
        assert "SecurityGroupIngress" not in properties(pipeline, group)


def test_functions_may_connect_as_the_app_user_on_the_proxy_and_nothing_else(pipeline):
    functions = pipeline.stack.functions
    proxy_arn = render(pipeline.stack.resolve(pipeline.stack.database.proxy.db_proxy_arn))
    expected = [f"arn:<AWS::Partition>:rds-db:<AWS::Region>:<AWS::AccountId>:dbuser:"
                f"{{Fn::Select: 6 of {proxy_arn}}}/{APP_USER}"]
    allowed = {f.node.id: [_rds_user(s) for s in statements_of(pipeline, f.role)
                           if "rds-db:connect" in as_list(s["Action"])] for f in functions.all}
    assert {name for name, users in allowed.items() if users} == {"WriteAudit", "BatchStatus", "Reports"}
    for name in ("WriteAudit", "BatchStatus", "Reports"):
        assert allowed[name] == expected, name


def _rds_user(statement: dict) -> str:
    """The rds-db:connect resource as text, the proxy id written as the field of the proxy ARN it is."""
    [resource] = as_list(statement["Resource"])
    parts = []
    for part in resource["Fn::Join"][1]:
        if isinstance(part, dict) and "Fn::Select" in part:
            index, split = part["Fn::Select"]
            separator, arn = split["Fn::Split"]
            assert separator == ":"
            parts.append(f"{{Fn::Select: {index} of {render(arn)}}}")
        else:
            parts.append(render(part))
    return "".join(parts)


def test_the_proxy_connects_to_aurora_as_the_app_user_only(pipeline):
    database = pipeline.stack.database
    cluster_resource_id = render(pipeline.stack.resolve(database.cluster.cluster_resource_identifier))
    assert granted(pipeline, database.proxy_role, "rds-db:connect") == [
        f"arn:<AWS::Partition>:rds-db:<AWS::Region>:<AWS::AccountId>:dbuser:{cluster_resource_id}/{APP_USER}"]
    assert properties(pipeline, database.proxy)["RoleArn"] == pipeline.stack.resolve(database.proxy_role.role_arn)


def test_the_migration_reads_only_the_master_secret_and_reaches_the_writer_directly(pipeline):
    database, migrate = pipeline.stack.database, pipeline.stack.functions.migrate
    assert granted(pipeline, migrate.role, "secretsmanager:GetSecretValue") == [
        render(pipeline.stack.resolve(database.master_secret.secret_arn))]
    variables = properties(pipeline, migrate.function)["Environment"]["Variables"]
    assert variables["DB_HOST"] == pipeline.stack.resolve(database.cluster.cluster_endpoint.hostname)
    assert variables["DB_USER"] == APP_USER


def test_the_migration_runs_again_whenever_a_migration_file_changes(pipeline, tmp_path):
    migration = properties(pipeline, pipeline.stack.database.migration)
    assert migration["ServiceToken"] == pipeline.stack.resolve(pipeline.stack.functions.migrate.function.function_arn)
    assert migration["MigrationsHash"] == migrations_fingerprint()
    (tmp_path / "0001_schema.sql").write_text("CREATE TABLE batches (id text);")
    before = migrations_fingerprint(tmp_path)
    (tmp_path / "0002_reports.sql").write_text("CREATE VIEW documents_processed AS SELECT 1;")
    assert migrations_fingerprint(tmp_path) != before


def test_only_the_database_clients_and_the_migration_run_in_the_vpc(pipeline):
    in_vpc = {f.node.id for f in pipeline.stack.functions.all
              if "VpcConfig" in properties(pipeline, f.function)}
    assert in_vpc == {"WriteAudit", "BatchStatus", "Reports", "Migrate"}


def test_the_vpc_has_no_nat_gateway_and_its_interface_endpoints_sit_in_one_zone(pipeline):
    assert not resources(pipeline.json, "AWS::EC2::NatGateway")
    endpoints = properties_of(pipeline.json, "AWS::EC2::VPCEndpoint")
    interface = [e for e in endpoints if e.get("VpcEndpointType") == "Interface"]
    assert len(interface) == 2 and all(len(e["SubnetIds"]) == 1 for e in interface)
    services = json.dumps([e["ServiceName"] for e in endpoints])
    assert "secretsmanager" in services and "xray" in services and ".s3" in services


# --- permissions --------------------------------------------------------------------------

def test_s3_writes_stay_within_their_prefixes(pipeline):
    buckets, functions, containers = pipeline.stack.buckets, pipeline.stack.functions, pipeline.stack.containers
    work, images = arn_text(pipeline, buckets.work.bucket_arn), arn_text(pipeline, buckets.images.bucket_arn)
    assert granted(pipeline, functions.split_small.role, "s3:PutObject") == [f"{work}/pages/*"]
    assert granted(pipeline, functions.convert_page.role, "s3:PutObject") == [f"{images}/images/*"]
    assert granted(pipeline, containers.large.task_definition.task_role, "s3:PutObject") == [f"{work}/chunks/*"]
    assert granted(pipeline, containers.failsafe.task_definition.task_role, "s3:PutObject") == sorted(
        [f"{work}/chunks/*", f"{work}/pages/*", f"{images}/images/*"])
    writers = {f.node.id for f in functions.all if granted(pipeline, f.role, "s3:PutObject")}
    assert writers == {"SplitSmall", "ConvertPage"}


def test_documents_are_read_only_by_the_stages_that_need_them(pipeline):
    staging = arn_text(pipeline, pipeline.stack.buckets.staging.bucket_arn)
    functions = pipeline.stack.functions
    readers = {f.node.id for f in functions.all if f"{staging}/*" in granted(pipeline, f.role, "s3:GetObject")}
    assert readers == {"Classify", "SplitSmall", "ConvertPage"}
    assert granted(pipeline, functions.list_objects.role, "s3:ListBucket") == [staging]


def test_the_inference_integration_may_invoke_exactly_the_configured_endpoint(pipeline):
    endpoint = PdfPipelineConfig.from_context(pipeline.stack.node).inference.endpoint_name
    role = pipeline.stack.api.inference.role
    assert [(s["Action"], render(s["Resource"])) for s in statements_of(pipeline, role)] == [
        ("sagemaker:InvokeEndpoint",
         f"arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:endpoint/{endpoint.lower()}")]


def test_invoke_model_may_call_post_inference_and_no_other_method(pipeline):
    api = pipeline.stack.api.api
    invoke = [(f.node.id, r) for f in pipeline.stack.functions.all
              for r in granted(pipeline, f.role, "execute-api:Invoke")]
    assert invoke == [("InvokeModel", f"arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:"
                                      f"{render(pipeline.stack.resolve(api.rest_api_id))}/"
                                      f"{render(pipeline.stack.resolve(api.deployment_stage.stage_name))}"
                                      f"/POST/inference")]


def test_the_pipeline_roles_name_every_action_without_wildcards(pipeline):
    roles = [f.role for f in pipeline.stack.functions.all] + [
        s.task_definition.task_role for s in pipeline.stack.containers.services]
    actions = [a for role in roles for s in statements_of(pipeline, role) for a in as_list(s["Action"])]
    assert actions and not [a for a in actions if "*" in a]


def test_the_model_execution_role_may_read_the_page_images_only():
    stack = cdk.Stack(cdk.App(), "ModelRead")
    images = s3.Bucket(stack, "Images")
    grant_model_read(images, "arn:aws:iam::123456789012:role/model")

    Template.from_stack(stack).has_resource_properties("AWS::S3::BucketPolicy", {
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Effect": "Allow", "Action": "s3:GetObject",
            "Principal": {"AWS": "arn:aws:iam::123456789012:role/model"},
            "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [Match.any_value(), "Arn"]}, "/images/*"]]}})])}})


# --- API ----------------------------------------------------------------------------------

def test_every_method_requires_iam_authorization(pipeline):
    api = pipeline.stack.api
    methods = properties_of(pipeline.json, "AWS::ApiGateway::Method")
    assert len(methods) == 4  # POST /batches, GET /batches/{batchId}, GET /reports/{name}, POST /inference
    assert {m["AuthorizationType"] for m in methods} == {"AWS_IAM"}
    for method in (api.start_batch_method, api.batch_status_method, api.report_method, api.inference.method):
        assert properties(pipeline, method)["AuthorizationType"] == "AWS_IAM"


def test_post_batches_validates_its_body_against_the_start_batch_schema(pipeline):
    schema = Capture()
    pipeline.template.has_resource_properties("AWS::ApiGateway::Model", {"Name": "StartBatch", "Schema": schema})
    assert schema.as_object() == START_BATCH_SCHEMA
    method = properties(pipeline, pipeline.stack.api.start_batch_method)
    validator = pipeline.json["Resources"][method["RequestValidatorId"]["Ref"]]["Properties"]
    assert validator["ValidateRequestBody"] is True
    [model_ref] = method["RequestModels"].values()
    assert pipeline.json["Resources"][model_ref["Ref"]]["Properties"]["Name"] == "StartBatch"


def test_a_batch_names_at_least_one_and_at_most_a_hundred_prefixes_and_nothing_else():
    prefixes = START_BATCH_SCHEMA["properties"]["prefixes"]
    assert (prefixes["minItems"], prefixes["maxItems"], prefixes["items"]["maxLength"]) == (1, 100, 1024)
    assert START_BATCH_SCHEMA["required"] == ["prefixes"] and START_BATCH_SCHEMA["additionalProperties"] is False


def test_post_inference_is_an_aws_service_integration_to_sagemaker_invoke_endpoint(pipeline):
    endpoint = PdfPipelineConfig.from_context(pipeline.stack.node).inference.endpoint_name
    route = pipeline.stack.api.inference
    integration = properties(pipeline, route.method)["Integration"]
    assert integration["Type"] == "AWS" and integration["IntegrationHttpMethod"] == "POST"
    assert render(integration["Uri"]) == (
        f"arn:<AWS::Partition>:apigateway:<AWS::Region>:runtime.sagemaker:path/endpoints/{endpoint}/invocations")
    assert integration["Credentials"] == pipeline.stack.resolve(route.role.role_arn)
    assert integration["PassthroughBehavior"] == "NEVER"


def test_sagemaker_throttling_and_server_errors_reach_the_caller_as_retryable_statuses(pipeline):
    integration = properties(pipeline, pipeline.stack.api.inference.method)["Integration"]
    selected = {r.get("SelectionPattern"): r["StatusCode"] for r in integration["IntegrationResponses"]}
    assert selected[None] == "200" and selected["429"] == "429" and selected[r"5\d{2}"] == "503"


def test_post_inference_validates_the_image_location(pipeline):
    schema = Capture()
    pipeline.template.has_resource_properties("AWS::ApiGateway::Model", {"Name": "InferenceRequest",
                                                                        "Schema": schema})
    assert schema.as_object() == INFERENCE_REQUEST_SCHEMA


# --- buckets, notifications, outputs --------------------------------------------------------

def test_no_bucket_is_public_and_every_bucket_is_encrypted_and_tls_only(pipeline):
    buckets = resources(pipeline.json, "AWS::S3::Bucket")
    assert len(buckets) == 3
    for logical, bucket in buckets.items():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True}, logical
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"], logical
    policies = properties_of(pipeline.json, "AWS::S3::BucketPolicy")
    assert len(policies) == 3
    for policy in policies:
        statements = policy["PolicyDocument"]["Statement"]
        assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
                   for s in statements)
        assert not [s for s in statements if s["Effect"] == "Allow" and s.get("Principal") in ("*", {"AWS": "*"})]


def test_staging_is_versioned_work_expires_and_images_are_kept_as_configured(pipeline):
    config = PdfPipelineConfig.from_context(pipeline.stack.node)
    buckets = pipeline.stack.buckets
    assert properties(pipeline, buckets.staging)["VersioningConfiguration"] == {"Status": "Enabled"}
    assert Match.array_with([Match.object_like({"ExpirationInDays": config.work_expiration_days})]).test(
        properties(pipeline, buckets.work)["LifecycleConfiguration"]["Rules"]).is_success
    assert Match.array_with([Match.object_like({"Prefix": "images/",
                                                "ExpirationInDays": config.image_retention_days})]).test(
        properties(pipeline, buckets.images)["LifecycleConfiguration"]["Rules"]).is_success


def test_data_buckets_are_kept_and_the_work_bucket_goes_with_the_stack_by_default(pipeline):
    buckets = pipeline.stack.buckets
    policy = {name: pipeline.json["Resources"][logical_id(pipeline, b)]["DeletionPolicy"]
              for name, b in (("staging", buckets.staging), ("work", buckets.work), ("images", buckets.images))}
    assert policy == {"staging": "Retain", "work": "Delete", "images": "Retain"}


def test_new_page_images_notify_the_converted_image_queue(pipeline):
    rules = Capture()
    pipeline.template.has_resource_properties("Custom::S3BucketNotifications", {
        "BucketName": pipeline.stack.resolve(pipeline.stack.buckets.images.bucket_name),
        "NotificationConfiguration": {"QueueConfigurations": [{
            "Events": ["s3:ObjectCreated:*"],
            "QueueArn": pipeline.stack.resolve(pipeline.stack.queues.converted_image.queue.queue_arn),
            "Filter": {"Key": {"FilterRules": rules}}}]}})
    assert sorted(map(json.dumps, rules.as_array())) == sorted(map(json.dumps, [
        {"Name": "prefix", "Value": "images/"}, {"Name": "suffix", "Value": ".png"}]))


def test_outputs_give_the_cli_the_api_buckets_and_queues(pipeline):
    outputs = pipeline.json["Outputs"]
    assert {"ApiUrl", "StagingBucket", "WorkBucket", "ImagesBucket", "IngestQueueUrl",
            "QuarantineQueueUrl"} <= set(outputs)
    assert outputs["QuarantineQueueUrl"]["Value"] == pipeline.stack.resolve(
        pipeline.stack.queues.quarantine.queue.queue_url)
    assert outputs["IngestQueueUrl"]["Value"] == pipeline.stack.resolve(pipeline.stack.queues.ingest.queue.queue_url)


def test_the_database_pressure_alarms_watch_capacity_and_proxy_connections(pipeline):
    config = PdfPipelineConfig.from_context(pipeline.stack.node).database
    pipeline.template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "ACUUtilization", "Threshold": config.acu_alarm_percent,
        "Dimensions": [{"Name": "DBClusterIdentifier",
                        "Value": pipeline.stack.resolve(pipeline.stack.database.cluster.cluster_identifier)}]})
    pipeline.template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "Threshold": config.connections_alarm_percent,
        "Metrics": Match.array_with([Match.object_like({"Expression": "100 * used / allowed"})])})


def test_the_dashboard_shows_queues_dead_letters_functions_tasks_and_the_database(pipeline):
    [dashboard] = properties_of(pipeline.json, "AWS::CloudWatch::Dashboard")
    body = json.dumps(dashboard["DashboardBody"])
    for metric in ("ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage", "Errors", "Duration",
                   "RunningTaskCount", "ServerlessDatabaseCapacity", "DatabaseConnections"):
        assert metric in body, metric


# --- switches: inference off, auto-ingest on, destroy -------------------------------------

def test_inference_off_removes_its_queue_function_route_and_integration_role(switched):
    stack = switched.stack
    assert stack.queues.converted_image is None and stack.functions.invoke_model is None
    assert stack.api.inference is None
    methods = properties_of(switched.json, "AWS::ApiGateway::Method")
    assert all(m["Integration"]["Type"] == "AWS_PROXY" for m in methods) and len(methods) == 3
    assert "sagemaker:InvokeEndpoint" not in json.dumps(switched.json)
    assert not [f for f in properties_of(switched.json, "AWS::Lambda::Function")
                if "INFERENCE_URL" in json.dumps(f.get("Environment", {}))]


def test_auto_ingest_sends_staging_uploads_under_its_prefix_to_its_own_consumer(switched):
    stack = switched.stack
    switched.template.has_resource_properties("Custom::S3BucketNotifications", {
        "BucketName": stack.resolve(stack.buckets.staging.bucket_name),
        "NotificationConfiguration": {"QueueConfigurations": [{
            "Events": ["s3:ObjectCreated:*"], "QueueArn": stack.resolve(stack.queues.auto_ingest.queue.queue_arn),
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "incoming/"}]}}}]}})
    switched.template.has_resource_properties("AWS::Lambda::EventSourceMapping", {
        "EventSourceArn": stack.resolve(stack.queues.auto_ingest.queue.queue_arn),
        "FunctionName": stack.resolve(stack.functions.auto_ingest.function.function_name),
        "FunctionResponseTypes": ["ReportBatchItemFailures"]})


def test_auto_ingest_is_off_by_default(pipeline):
    assert pipeline.stack.queues.auto_ingest is None and pipeline.stack.functions.auto_ingest is None


def test_destroy_deletes_the_data_buckets_emptied_and_the_database_unprotected(switched):
    stack = switched.stack
    for bucket in (stack.buckets.staging, stack.buckets.images):
        assert switched.json["Resources"][stack.get_logical_id(bucket.node.default_child)]["DeletionPolicy"] == "Delete"
    emptied = {json.dumps(r["BucketName"]) for r in properties_of(switched.json, "Custom::S3AutoDeleteObjects")}
    assert emptied == {json.dumps(stack.resolve(b.bucket_name))
                       for b in (stack.buckets.staging, stack.buckets.work, stack.buckets.images)}
    cluster = switched.json["Resources"][stack.get_logical_id(stack.database.cluster.node.default_child)]
    assert cluster["Properties"]["DeletionProtection"] is False and cluster["DeletionPolicy"] == "Delete"


# --- what the container worker needs from its task ---------------------------------------------

def test_the_failsafe_task_gets_every_variable_the_worker_checks_at_start(pipeline):
    task = properties(pipeline, pipeline.stack.containers.failsafe.task_definition)
    names = {variable["Name"] for variable in task["ContainerDefinitions"][0]["Environment"]}
    assert set(worker_service.REQUIRED["failsafe"]) <= names
    assert {"LARGE_BYTES", "LARGE_PAGES", "CHUNK_PAGES"} <= names


def test_each_task_may_protect_only_tasks_of_its_own_cluster_from_scale_in(pipeline):
    cluster = logical_id(pipeline, pipeline.stack.containers.cluster)
    for service in pipeline.stack.containers.services:
        resources_ = granted(pipeline, service.task_definition.task_role, "ecs:UpdateTaskProtection")
        assert resources_ == [f"arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/<{cluster}>/*"]


def test_the_list_queue_redelivers_within_fifo_deduplication(pipeline):
    queue = properties(pipeline, pipeline.stack.queues.list.queue)
    assert queue["FifoQueue"] is True and queue["VisibilityTimeout"] < 300
