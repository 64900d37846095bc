"""The cluster configuration's YAML: errors reported with their place, bombs and tricks refused
before anything walks them, and a plain tree out."""
from __future__ import annotations

import time

import pytest

from lambda_src.parallelcluster_api.shared.yaml_safety import (
    MAX_EXPANDED_NODES,
    ConfigurationError,
    parse_configuration,
    with_owner_tag,
)
from tests.parallelcluster_api.conftest import CONFIGURATION, INI_CONFIGURATION

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def parse(text: str):
    return parse_configuration(text, region="us-east-1")


def test_a_cluster_configuration_parses_to_its_mapping():
    configuration = parse(CONFIGURATION)
    assert configuration["Scheduling"]["SlurmQueues"][0]["ComputeResources"][0]["InstanceType"] == "c5.large"


def test_a_billion_laughs_document_is_refused_at_once():
    started = time.monotonic()
    with pytest.raises(ConfigurationError, match=f"expands to more than {MAX_EXPANDED_NODES} values"):
        parse(BILLION_LAUGHS)
    assert time.monotonic() - started < 1


def test_a_recursive_alias_is_refused():
    with pytest.raises(ConfigurationError, match="recursive alias"):
        parse("a: &loop\n  b: *loop\n")


def test_nesting_deeper_than_the_limit_is_refused_without_recursing_into_it():
    with pytest.raises(ConfigurationError, match="nests deeper than 40 levels"):
        parse("a: " + "[" * 100_000 + "]" * 100_000)


def test_aliases_that_stack_shallow_anchors_into_a_deep_tree_are_refused():
    levels = ["l0: &l0 [1]"] + [f"l{n}: &l{n} [[[[[[[[[[*l{n - 1}]]]]]]]]]]" for n in range(1, 6)]
    with pytest.raises(ConfigurationError, match="once its aliases are expanded"):
        parse("\n".join(levels) + "\n")


def test_a_few_honest_aliases_are_accepted_and_copied_apart():
    configuration = parse("defaults: &queue {MinCount: 0}\nq1: *queue\nq2: *queue\n")
    configuration["q1"]["MinCount"] = 5
    assert configuration["q2"] == {"MinCount": 0}


def test_a_merge_key_may_be_overridden():
    assert parse("base: &b {MaxCount: 4}\nqueue:\n  <<: *b\n  MaxCount: 8\n")["queue"] == {"MaxCount": 8}


def test_a_repeated_key_is_refused_with_its_line():
    with pytest.raises(ConfigurationError, match="repeats the key 'HeadNode' at line 3"):
        parse("HeadNode: {}\nImage: {}\nHeadNode: {}\n")


def test_a_python_object_tag_is_refused():
    with pytest.raises(ConfigurationError, match="could not determine a constructor for the tag"):
        parse("a: !!python/object/apply:os.system ['id']\n")


def test_two_documents_are_refused():
    with pytest.raises(ConfigurationError, match="expected a single document in the stream"):
        parse("a: 1\n---\nb: 2\n")


def test_invalid_yaml_is_reported_with_line_and_column():
    with pytest.raises(ConfigurationError, match="not valid YAML: while parsing a flow sequence.* at line 3 column 1"):
        parse("HeadNode:\n  InstanceType: [t3.micro\n")


@pytest.mark.parametrize(("text", "message"), [
    ("", "clusterConfiguration is empty"),
    ("just a string\n", "must be a YAML mapping .* got a single value"),
    ("- a\n- b\n", "must be a YAML mapping .* got a list"),
])
def test_a_document_that_is_not_a_mapping_is_refused(text, message):
    with pytest.raises(ConfigurationError, match=message):
        parse(text)


def test_a_region_other_than_the_apis_is_refused():
    with pytest.raises(ConfigurationError, match="Region must be us-east-1"):
        parse("Region: eu-west-1\n")


def test_a_pcluster_2_ini_file_is_pointed_to_the_converter():
    with pytest.raises(ConfigurationError, match="pcluster3-config-converter --config-file"):
        parse(INI_CONFIGURATION)


def test_the_owner_tag_is_added_once_and_the_other_tags_are_kept():
    tagged = with_owner_tag(parse(CONFIGURATION + "  - Key: owner\n    Value: x\n"), key="owner", owner="alice")
    assert tagged["Tags"] == [{"Key": "project", "Value": "genomics"}, {"Key": "owner", "Value": "alice"}]


def test_the_owner_tag_does_not_change_an_aliased_tag_list_elsewhere():
    configuration = parse("Tags: &tags [{Key: a, Value: b}]\nScheduling: {SlurmQueues: [{Name: q, Tags: *tags}]}\n")
    tagged = with_owner_tag(configuration, key="owner", owner="alice")
    assert tagged["Scheduling"]["SlurmQueues"][0]["Tags"] == [{"Key": "a", "Value": "b"}]
