from __future__ import annotations

import pytest
from aws_cdk import assertions

from stacks.suite import URL_SHORTENER


@pytest.fixture(scope="session")
def shortener_template(suite) -> assertions.Template:
    return suite.template(URL_SHORTENER)


@pytest.fixture(scope="session")
def shortener_template_json(suite) -> dict:
    return suite.template_json(URL_SHORTENER)
