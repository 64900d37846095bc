"""Explicit action lists for the wildcards of ParallelCluster's official user policy.

The official policy (``cloudformation/policies/parallelcluster-policies.yaml`` in
aws/aws-parallelcluster) grants ``ec2:Describe*``, ``fsx:*`` and ``elasticfilesystem:*``. The suite
allows no wildcard action, so these are the actions those wildcards matched when generated:
every action of the IAM Service Authorization Reference (cfn-lint's copy,
``cfnlint/data/AdditionalSpecs/Policies.json``) under the wildcard, spelled as botocore spells the
API operation (IAM matches action names without regard to case). An action AWS adds later is
not granted until this file is regenerated, on purpose:

    python -m stacks.parallelcluster_api.iam_actions > stacks/parallelcluster_api/iam_actions.py

(run with the pinned cfn-lint and botocore; ``tests/parallelcluster_api/test_stack.py`` checks the
lists against cfn-lint's table). Generated with cfn-lint 1.58.0 and botocore 1.44.8.

``*_UNSCOPED`` are the actions of a family that support no resource-level permissions: IAM grants
them only on ``"*"``, so the official policy's ``arn:...:fsx:<region>:<account>:*`` never granted them.
"""
from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

# name: (IAM service prefix, botocore service, lowercase action prefix the official wildcard
# matches, which actions: None all, True those with resource types, False those without)
WILDCARDS = {"EC2_DESCRIBE": ("ec2", "ec2", "describe", None),
             "FSX": ("fsx", "fsx", "", True), "FSX_UNSCOPED": ("fsx", "fsx", "", False),
             "EFS": ("elasticfilesystem", "efs", "", True), "EFS_UNSCOPED": ("elasticfilesystem", "efs", "", False)}
# Actions of the reference that are not API operations: botocore cannot spell them.
_IAM_ONLY_SPELLING = {
    "describelocalgatewayroutetablepermissions": "DescribeLocalGatewayRouteTablePermissions",
    "describeverifiedaccessinstancewebaclassociations": "DescribeVerifiedAccessInstanceWebAclAssociations",
    "associatefilegateway": "AssociateFileGateway",
    "bypasssnaplockenterpriseretention": "BypassSnaplockEnterpriseRetention",
    "deleteresourcepolicy": "DeleteResourcePolicy", "describeassociatedfilegateways": "DescribeAssociatedFileGateways",
    "disassociatefilegateway": "DisassociateFileGateway", "getresourcepolicy": "GetResourcePolicy",
    "managebackupprincipalassociations": "ManageBackupPrincipalAssociations", "putresourcepolicy": "PutResourcePolicy",
    "backup": "Backup", "clientmount": "ClientMount", "clientrootaccess": "ClientRootAccess",
    "clientwrite": "ClientWrite",
    "replicationread": "ReplicationRead", "replicationwrite": "ReplicationWrite", "restore": "Restore",
}

EC2_DESCRIBE = (
    "DescribeAccountAttributes", "DescribeAccountVpcEncryptionControl", "DescribeAddressTransfers",
    "DescribeAddresses", "DescribeAddressesAttribute", "DescribeAggregateIdFormat",
    "DescribeApplicationStatus", "DescribeApplicationStatusCheckAssociations",
    "DescribeApplicationStatusChecks", "DescribeAvailabilityZones",
    "DescribeAwsNetworkPerformanceMetricSubscriptions", "DescribeBundleTasks", "DescribeByoipCidrs",
    "DescribeCapacityBlockExtensionHistory", "DescribeCapacityBlockExtensionOfferings",
    "DescribeCapacityBlockOfferings", "DescribeCapacityBlockStatus", "DescribeCapacityBlocks",
    "DescribeCapacityManagerDataExports", "DescribeCapacityReservationBillingRequests",
    "DescribeCapacityReservationCancellationQuotes", "DescribeCapacityReservationFleets",
    "DescribeCapacityReservationTopology", "DescribeCapacityReservations", "DescribeCarrierGateways",
    "DescribeClassicLinkInstances", "DescribeClientVpnAuthorizationRules", "DescribeClientVpnConnections",
    "DescribeClientVpnEndpoints", "DescribeClientVpnRoutes", "DescribeClientVpnTargetNetworks",
    "DescribeCoipPools", "DescribeConversionTasks", "DescribeCustomerGateways",
    "DescribeDeclarativePoliciesReports", "DescribeDhcpOptions", "DescribeEgressOnlyInternetGateways",
    "DescribeElasticGpus", "DescribeExportImageTasks", "DescribeExportTasks", "DescribeFastLaunchImages",
    "DescribeFastSnapshotRestores", "DescribeFleetHistory", "DescribeFleetInstances", "DescribeFleets",
    "DescribeFlowLogs", "DescribeFpgaImageAttribute", "DescribeFpgaImages",
    "DescribeHostReservationOfferings", "DescribeHostReservations", "DescribeHosts",
    "DescribeIamInstanceProfileAssociations", "DescribeIdFormat", "DescribeIdentityIdFormat",
    "DescribeImageAttribute", "DescribeImageReferences", "DescribeImageUsageReportEntries",
    "DescribeImageUsageReports", "DescribeImages", "DescribeImportImageTasks", "DescribeImportSnapshotTasks",
    "DescribeInstanceAttribute", "DescribeInstanceConnectEndpoints", "DescribeInstanceCreditSpecifications",
    "DescribeInstanceEventNotificationAttributes", "DescribeInstanceEventWindows",
    "DescribeInstanceImageMetadata", "DescribeInstanceSqlHaHistoryStates", "DescribeInstanceSqlHaStates",
    "DescribeInstanceStatus", "DescribeInstanceTopology", "DescribeInstanceTypeOfferings",
    "DescribeInstanceTypes", "DescribeInstances", "DescribeInternetGateways", "DescribeIpamByoasn",
    "DescribeIpamExternalResourceVerificationTokens", "DescribeIpamInternetRegistryAssociations",
    "DescribeIpamPolicies", "DescribeIpamPoolAllocations", "DescribeIpamPools",
    "DescribeIpamPrefixListResolverTargets", "DescribeIpamPrefixListResolvers",
    "DescribeIpamResourceDiscoveries", "DescribeIpamResourceDiscoveryAssociations", "DescribeIpamScopes",
    "DescribeIpams", "DescribeIpv6Pools", "DescribeKeyPairs", "DescribeLaunchTemplateVersions",
    "DescribeLaunchTemplates", "DescribeLocalGatewayRouteTablePermissions",
    "DescribeLocalGatewayRouteTableVirtualInterfaceGroupAssociations",
    "DescribeLocalGatewayRouteTableVpcAssociations", "DescribeLocalGatewayRouteTables",
    "DescribeLocalGatewayVirtualInterfaceGroups", "DescribeLocalGatewayVirtualInterfaces",
    "DescribeLocalGateways", "DescribeLockedSnapshots", "DescribeMacHosts", "DescribeMacModificationTasks",
    "DescribeManagedPrefixLists", "DescribeMovingAddresses", "DescribeNatGateways", "DescribeNetworkAcls",
    "DescribeNetworkInsightsAccessScopeAnalyses", "DescribeNetworkInsightsAccessScopes",
    "DescribeNetworkInsightsAnalyses", "DescribeNetworkInsightsPaths", "DescribeNetworkInterfaceAttribute",
    "DescribeNetworkInterfacePermissions", "DescribeNetworkInterfaces", "DescribeOutpostLags",
    "DescribePlacementGroups", "DescribePrefixLists", "DescribePrincipalIdFormat", "DescribePublicIpv4Pools",
    "DescribeRegions", "DescribeReplaceRootVolumeTasks", "DescribeReservedInstances",
    "DescribeReservedInstancesListings", "DescribeReservedInstancesModifications",
    "DescribeReservedInstancesOfferings", "DescribeRouteServerEndpoints", "DescribeRouteServerPeers",
    "DescribeRouteServers", "DescribeRouteTables", "DescribeScheduledInstanceAvailability",
    "DescribeScheduledInstances", "DescribeSecondaryInterfaces", "DescribeSecondaryNetworks",
    "DescribeSecondarySubnets", "DescribeSecurityGroupReferences", "DescribeSecurityGroupRules",
    "DescribeSecurityGroupVpcAssociations", "DescribeSecurityGroups", "DescribeServiceLinkVirtualInterfaces",
    "DescribeSnapshotAttribute", "DescribeSnapshotTierStatus", "DescribeSnapshots",
    "DescribeSpotDatafeedSubscription", "DescribeSpotFleetInstances", "DescribeSpotFleetRequestHistory",
    "DescribeSpotFleetRequests", "DescribeSpotInstanceRequests", "DescribeSpotPriceHistory",
    "DescribeStaleSecurityGroups", "DescribeStoreImageTasks", "DescribeSubnets", "DescribeTags",
    "DescribeTrafficMirrorFilterRules", "DescribeTrafficMirrorFilters", "DescribeTrafficMirrorSessions",
    "DescribeTrafficMirrorTargets", "DescribeTransitGatewayAttachments", "DescribeTransitGatewayConnectPeers",
    "DescribeTransitGatewayConnects", "DescribeTransitGatewayMeteringPolicies",
    "DescribeTransitGatewayMulticastDomains", "DescribeTransitGatewayPeeringAttachments",
    "DescribeTransitGatewayPolicyTables", "DescribeTransitGatewayRouteTableAnnouncements",
    "DescribeTransitGatewayRouteTables", "DescribeTransitGatewayVpcAttachments", "DescribeTransitGateways",
    "DescribeTrunkInterfaceAssociations", "DescribeVerifiedAccessEndpoints", "DescribeVerifiedAccessGroups",
    "DescribeVerifiedAccessInstanceLoggingConfigurations", "DescribeVerifiedAccessInstanceWebAclAssociations",
    "DescribeVerifiedAccessInstances", "DescribeVerifiedAccessTrustProviders", "DescribeVolumeAttribute",
    "DescribeVolumeStatus", "DescribeVolumes", "DescribeVolumesModifications", "DescribeVpcAttribute",
    "DescribeVpcBlockPublicAccessExclusions", "DescribeVpcBlockPublicAccessOptions", "DescribeVpcClassicLink",
    "DescribeVpcClassicLinkDnsSupport", "DescribeVpcEncryptionControls", "DescribeVpcEndpointAssociations",
    "DescribeVpcEndpointConnectionNotifications", "DescribeVpcEndpointConnections",
    "DescribeVpcEndpointServiceConfigurations", "DescribeVpcEndpointServicePermissions",
    "DescribeVpcEndpointServices", "DescribeVpcEndpoints", "DescribeVpcPeeringConnections", "DescribeVpcs",
    "DescribeVpnConcentrators", "DescribeVpnConnections", "DescribeVpnGateways",
)
FSX = (
    "AssociateFileGateway", "AssociateFileSystemAliases", "BypassSnaplockEnterpriseRetention",
    "CancelDataRepositoryTask", "CopyBackup", "CopySnapshotAndUpdateVolume", "CreateAndAttachS3AccessPoint",
    "CreateBackup", "CreateDataRepositoryAssociation", "CreateDataRepositoryTask", "CreateFileCache",
    "CreateFileSystem", "CreateFileSystemFromBackup", "CreateSnapshot", "CreateStorageVirtualMachine",
    "CreateVolume", "CreateVolumeFromBackup", "DeleteBackup", "DeleteDataRepositoryAssociation",
    "DeleteFileCache", "DeleteFileSystem", "DeleteResourcePolicy", "DeleteSnapshot",
    "DeleteStorageVirtualMachine", "DeleteVolume", "DescribeAssociatedFileGateways",
    "DescribeFileSystemAliases", "DetachAndDeleteS3AccessPoint", "DisassociateFileGateway",
    "DisassociateFileSystemAliases", "GetResourcePolicy", "ListTagsForResource",
    "ManageBackupPrincipalAssociations", "PutResourcePolicy", "ReleaseFileSystemNfsV3Locks",
    "RestoreVolumeFromSnapshot", "StartMisconfiguredStateRecovery", "TagResource", "UntagResource",
    "UpdateDataRepositoryAssociation", "UpdateFileCache", "UpdateFileSystem", "UpdateSnapshot",
    "UpdateStorageVirtualMachine", "UpdateVolume",
)
FSX_UNSCOPED = (
    "DescribeBackups", "DescribeDataRepositoryAssociations", "DescribeDataRepositoryTasks",
    "DescribeFileCaches", "DescribeFileSystems", "DescribeS3AccessPointAttachments",
    "DescribeSharedVpcConfiguration", "DescribeSnapshots", "DescribeStorageVirtualMachines",
    "DescribeVolumes", "UpdateSharedVpcConfiguration",
)
EFS = (
    "Backup", "ClientMount", "ClientRootAccess", "ClientWrite", "CreateAccessPoint", "CreateMountTarget",
    "CreateReplicationConfiguration", "CreateTags", "DeleteAccessPoint", "DeleteFileSystem",
    "DeleteFileSystemPolicy", "DeleteMountTarget", "DeleteReplicationConfiguration", "DeleteTags",
    "DescribeAccessPoints", "DescribeBackupPolicy", "DescribeFileSystemPolicy", "DescribeFileSystems",
    "DescribeLifecycleConfiguration", "DescribeMountTargetSecurityGroups", "DescribeMountTargets",
    "DescribeReplicationConfigurations", "DescribeTags", "ListTagsForResource",
    "ModifyMountTargetSecurityGroups", "PutBackupPolicy", "PutFileSystemPolicy", "PutLifecycleConfiguration",
    "ReplicationRead", "ReplicationWrite", "Restore", "TagResource", "UntagResource", "UpdateFileSystem",
    "UpdateFileSystemProtection",
)
EFS_UNSCOPED = (
    "CreateFileSystem", "DescribeAccountPreferences", "PutAccountPreferences",
)


def reference_actions() -> dict[str, tuple[str, ...]]:
    """What each wildcard matches in the installed cfn-lint's table, spelled as botocore spells it."""
    import botocore.session
    import cfnlint

    table = json.loads((Path(cfnlint.__file__).parent / "data" / "AdditionalSpecs" / "Policies.json").read_text())
    session = botocore.session.get_session()
    result = {}
    for name, (iam_prefix, botocore_service, action_prefix, scoped) in WILDCARDS.items():
        spelling = {op.lower(): op for op in session.get_service_model(botocore_service).operation_names}
        spelling.update(_IAM_ONLY_SPELLING)
        actions = table[iam_prefix]["Actions"]
        result[name] = tuple(sorted(spelling.get(action, action) for action, entry in actions.items()
                                    if action.startswith(action_prefix)
                                    and (scoped is None or bool(entry.get("Resources")) == scoped)))
    return result


def main() -> int:
    source = Path(__file__).read_text()
    header, _, _ = source.partition("EC2_DESCRIBE = (")
    footer = source[source.index("\n\ndef reference_actions"):]
    lists = "".join(
        f"{name} = (\n"
        + textwrap.fill(", ".join(f'"{action}"' for action in actions), 110,
                        initial_indent="    ", subsequent_indent="    ")
        + ",\n)\n"
        for name, actions in reference_actions().items())
    sys.stdout.write(header + lists + footer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
