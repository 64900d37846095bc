"""Finding a stack's hosted web client (``StaticSite``) in its synthesized template, by intent.

The site is the one CloudFront distribution whose origin is an S3 bucket read through an origin
access control; its runtime configuration is the ``config.json`` that CDK's BucketDeployment
carries: the file itself is a staged asset in the cloud assembly (deploy-time values written as
``<<marker:...>>``), the values of the markers are properties of the deployment's custom resource.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.templates import render, resources

PLACEHOLDER_SITE_DOMAIN = "d111111abcdef8.cloudfront.net"  # CloudFront's documentation example


@dataclass(frozen=True)
class HostedSite:
    template: dict
    distribution_id: str

    @property
    def distribution(self) -> dict:
        return self.template["Resources"][self.distribution_id]["Properties"]["DistributionConfig"]

    @property
    def origin(self) -> dict:
        [origin] = self.distribution["Origins"]
        return origin

    @property
    def bucket_id(self) -> str:
        logical_id, attribute = self.origin["DomainName"]["Fn::GetAtt"]
        assert attribute == "RegionalDomainName"
        return logical_id

    @property
    def bucket(self) -> dict:
        return self.template["Resources"][self.bucket_id]

    @property
    def bucket_policy(self) -> dict:
        [policy] = [p["Properties"]["PolicyDocument"]
                    for p in resources(self.template, "AWS::S3::BucketPolicy").values()
                    if p["Properties"]["Bucket"] == {"Ref": self.bucket_id}]
        return policy

    @property
    def headers_policy(self) -> dict:
        policy_id = self.distribution["DefaultCacheBehavior"]["ResponseHeadersPolicyId"]["Ref"]
        return self.template["Resources"][policy_id]["Properties"]["ResponseHeadersPolicyConfig"]

    @property
    def content_security_policy(self) -> dict[str, list[str]]:
        """The CSP as {directive: [sources]}, references rendered as ``<name>``."""
        text = render(self.headers_policy["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"])
        return {name: values for name, *values in (d.split() for d in text.split(";"))}

    @property
    def url(self) -> str:
        """The site's URL as the template renders it: ``https://<distribution.DomainName>``."""
        return f"https://<{self.distribution_id}.DomainName>"

    @property
    def deployment(self) -> dict:
        [deployment] = [r["Properties"] for r in resources(self.template, "Custom::CDKBucketDeployment").values()
                        if r["Properties"]["DestinationBucketName"] == {"Ref": self.bucket_id}]
        return deployment


    @property
    def deployment_function_id(self) -> str:
        """CDK's provider function that copies the files (one per stack, deploy time only)."""
        logical_id, attribute = self.deployment["ServiceToken"]["Fn::GetAtt"]
        assert attribute == "Arn"
        return logical_id

    @property
    def deployment_role_id(self) -> str:
        return self.template["Resources"][self.deployment_function_id]["Properties"]["Role"]["Fn::GetAtt"][0]

    def deployment_policies(self) -> list[dict]:
        """Every policy document of the provider's role."""
        return [p["Properties"]["PolicyDocument"] for p in resources(self.template, "AWS::IAM::Policy").values()
                if {"Ref": self.deployment_role_id} in p["Properties"]["Roles"]]


def hosted_site(template: dict) -> HostedSite:
    found = [logical_id for logical_id, r in resources(template, "AWS::CloudFront::Distribution").items()
             if all("OriginAccessControlId" in o for o in r["Properties"]["DistributionConfig"]["Origins"])]
    assert len(found) == 1, f"expected one distribution serving a bucket through OAC, found {found}"
    return HostedSite(template=template, distribution_id=found[0])


def runtime_config(site: HostedSite, assembly: Path) -> dict[str, Any]:
    """The ``config.json`` the deployment writes, each deploy-time value rendered as ``<name>``."""
    deployment = site.deployment
    for key, markers in zip(deployment["SourceObjectKeys"], deployment["SourceMarkers"], strict=True):
        path = assembly / f"asset.{key.removesuffix('.zip')}" / "config.json"
        if path.is_file():
            text = path.read_text()
            for marker, value in markers.items():
                text = text.replace(marker, render(value))  # a JSON string, quotes included
            return json.loads(text)
    raise AssertionError("the site's deployment carries no config.json")


def deployed(value: Any, physical: dict[str, str]) -> Any:
    """``value`` (a template or part of one) with the references named in ``physical``
    (``"Logical.Attribute"`` or ``"Logical"``) replaced by those values, and joins of plain
    strings joined, as CloudFormation hands them to the service."""
    if isinstance(value, list):
        return [deployed(item, physical) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Fn::GetAtt"} and ".".join(value["Fn::GetAtt"]) in physical:
        return physical[".".join(value["Fn::GetAtt"])]
    if set(value) == {"Ref"} and value["Ref"] in physical:
        return physical[value["Ref"]]
    resolved = {key: deployed(item, physical) for key, item in value.items()}
    if set(resolved) == {"Fn::Join"} and all(isinstance(part, str) for part in resolved["Fn::Join"][1]):
        separator, parts = resolved["Fn::Join"]
        return separator.join(parts)
    return resolved
