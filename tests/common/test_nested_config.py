"""ContextBlock.nested: an object inside a context block, read key by key like its parent."""
from __future__ import annotations

import pytest

from stacks.common.config import ConfigError, ContextBlock


def test_a_nested_value_is_read_under_its_full_key():
    block = ContextBlock("system", {"inference": {"enabled": False}})

    assert block.nested("inference").boolean("enabled", True) is False


def test_an_absent_nested_object_leaves_every_key_at_its_default():
    assert ContextBlock("system", {}).nested("inference").integer("limit", 7, minimum=1, maximum=9) == 7


def test_a_bad_nested_value_names_the_full_key():
    nested = ContextBlock("system", {"inference": {"enabled": "yes"}}).nested("inference")

    with pytest.raises(ConfigError, match=r"^system\.inference\.enabled must be true or false"):
        nested.boolean("enabled", True)


def test_a_nested_value_that_is_not_an_object_is_refused():
    with pytest.raises(ConfigError, match=r"^system\.inference must be an object, got 5"):
        ContextBlock("system", {"inference": 5}).nested("inference")


def test_an_unknown_key_of_a_nested_object_is_refused_with_its_full_name():
    nested = ContextBlock("system", {"inference": {"enabled": True, "enabeld": False}}).nested("inference")
    nested.boolean("enabled", True)

    with pytest.raises(ConfigError, match=r"^system\.inference\.enabeld is not a known setting"):
        nested.reject_unknown_keys()


def test_the_nested_object_counts_as_a_known_key_of_its_parent():
    block = ContextBlock("system", {"inference": {}})
    block.nested("inference")

    block.reject_unknown_keys()  # raises if "inference" were unknown
