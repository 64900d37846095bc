"""A regional AWS WAF web ACL for API Gateway stages: managed rule groups plus a per-IP rate limit."""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

_MANAGED_GROUPS = (
    # (rule group, why)
    ("AWSManagedRulesCommonRuleSet", "OWASP-style exploits in headers, paths and bodies"),
    ("AWSManagedRulesKnownBadInputsRuleSet", "request patterns known to be malicious (Log4j and the like)"),
    ("AWSManagedRulesAmazonIpReputationList", "sources Amazon threat intelligence flags as bots or attackers"),
)


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True)


class RegionalApiFirewall(Construct):
    """Web ACL associated with one API Gateway REST API stage."""

    def __init__(self, scope: Construct, id_: str, *, stage_arn: str, requests_per_ip_per_5_min: int) -> None:
        super().__init__(scope, id_)
        rules = [
            wafv2.CfnWebACL.RuleProperty(
                name=group, priority=index,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=group)),
                visibility_config=_visibility(group))
            for index, (group, _why) in enumerate(_MANAGED_GROUPS)
        ]
        rules.append(wafv2.CfnWebACL.RuleProperty(
            name="RateLimitPerIp", priority=len(rules),
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    limit=requests_per_ip_per_5_min, aggregate_key_type="IP")),
            visibility_config=_visibility("RateLimitPerIp")))
        stack_name = cdk.Stack.of(self).stack_name
        self.web_acl = wafv2.CfnWebACL(
            self, "WebAcl", scope="REGIONAL", default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=rules, visibility_config=_visibility(f"{stack_name}-api"))
        self.association = wafv2.CfnWebACLAssociation(
            self, "Association", resource_arn=stage_arn, web_acl_arn=self.web_acl.attr_arn)
