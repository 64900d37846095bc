"""The pipeline's dashboard and the alarms that are not a dead-letter queue's own: the age of
each queue's oldest message, and database pressure. All alarms go to the stack's alarm topic."""
from __future__ import annotations

from typing import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from stacks.common.alarms import AlarmTopic
from stacks.common.lambda_function import PythonFunction
from stacks.pdf_pipeline.config import PdfPipelineConfig
from stacks.pdf_pipeline.containers import PipelineContainers
from stacks.pdf_pipeline.database import PipelineDatabase
from stacks.pdf_pipeline.queues import PipelineQueues

FIVE_MINUTES = cdk.Duration.minutes(5)
ONE_MINUTE = cdk.Duration.minutes(1)
# Pressure must last this many five-minute periods before it alarms (a batch's start is a burst).
PRESSURE_PERIODS = 3
WIDTH = 12


class PipelineMonitoring(Construct):
    def __init__(self, scope: Construct, id_: str, *, config: PdfPipelineConfig, alarms: AlarmTopic,
                 queues: PipelineQueues, functions: Sequence[PythonFunction], containers: PipelineContainers,
                 database: PipelineDatabase) -> None:
        super().__init__(scope, id_)
        age_limit = cdk.Duration.minutes(config.queue_age_alarm_minutes)
        self.queue_age_alarms = {
            name: alarms.alarm(
                self, f"{_pascal(name)}OldestMessage", threshold=age_limit.to_seconds(),
                evaluation_periods=PRESSURE_PERIODS,
                metric=queue.queue.metric_approximate_age_of_oldest_message(
                    period=FIVE_MINUTES, statistic=cloudwatch.Stats.MAXIMUM),
                description=f"A message has waited over {config.queue_age_alarm_minutes} minutes in the {name} "
                            "queue: its consumer is failing, throttled or at its maximum concurrency")
            for name, queue in queues.by_name.items()}

        proxy_name = database.proxy.db_proxy_name
        acu_utilization = database.cluster.metric("ACUUtilization", period=FIVE_MINUTES,
                                                  statistic=cloudwatch.Stats.AVERAGE)
        self.capacity_alarm = alarms.alarm(
            self, "DatabaseCapacity", threshold=config.database.acu_alarm_percent,
            evaluation_periods=PRESSURE_PERIODS, metric=acu_utilization,
            description=f"Aurora has used over {config.database.acu_alarm_percent} % of its maximum capacity "
                        f"({config.database.max_capacity:g} ACU) for 15 minutes: raise database.maxCapacity or "
                        "lower maxConcurrency.writeAudit")
        connection_use = cloudwatch.MathExpression(
            expression="100 * used / allowed", period=FIVE_MINUTES, label="Proxy connections used (%)",
            using_metrics={"used": _proxy_metric(proxy_name, "DatabaseConnections"),
                           "allowed": _proxy_metric(proxy_name, "MaxDatabaseConnectionsAllowed")})
        self.connections_alarm = alarms.alarm(
            self, "DatabaseConnections", threshold=config.database.connections_alarm_percent,
            evaluation_periods=PRESSURE_PERIODS, metric=connection_use,
            description=f"RDS Proxy holds over {config.database.connections_alarm_percent} % of the database "
                        "connections it may open: clients will wait for connections")

        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=cdk.Duration.hours(3))
        active = queues.by_name
        self.dashboard.add_widgets(
            _graph("Messages waiting (visible)", [
                q.queue.metric_approximate_number_of_messages_visible(label=n, period=ONE_MINUTE,
                                                                      statistic=cloudwatch.Stats.MAXIMUM)
                for n, q in active.items()]),
            _graph("Messages in flight", [
                q.queue.metric_approximate_number_of_messages_not_visible(label=n, period=ONE_MINUTE,
                                                                          statistic=cloudwatch.Stats.MAXIMUM)
                for n, q in active.items()]))
        self.dashboard.add_widgets(
            _graph("Oldest message age (seconds)", [
                q.queue.metric_approximate_age_of_oldest_message(label=n, period=ONE_MINUTE,
                                                                 statistic=cloudwatch.Stats.MAXIMUM)
                for n, q in active.items()], alarm_line=age_limit.to_seconds()),
            _graph("Dead letters and quarantine", [
                *(q.dead_letter_queue.metric_approximate_number_of_messages_visible(
                    label=f"{n} DLQ", period=ONE_MINUTE, statistic=cloudwatch.Stats.MAXIMUM)
                  for n, q in active.items()),
                queues.quarantine.queue.metric_approximate_number_of_messages_visible(
                    label="quarantine", period=ONE_MINUTE, statistic=cloudwatch.Stats.MAXIMUM)]))
        self.dashboard.add_widgets(
            _graph("Function errors", [f.function.metric_errors(label=_label(f), period=ONE_MINUTE)
                                       for f in functions]),
            _graph("Function duration p99 (ms)", [f.function.metric_duration(label=_label(f), period=ONE_MINUTE,
                                                                              statistic="p99")
                                                  for f in functions]))
        self.dashboard.add_widgets(
            _graph("Fargate tasks running / desired", [
                metric for service, mode in ((containers.large, "large"), (containers.failsafe, "failsafe"))
                for metric in (_task_count(containers.cluster, service, "RunningTaskCount", f"{mode} running"),
                               _task_count(containers.cluster, service, "DesiredTaskCount", f"{mode} desired"))]),
            _graph("Database capacity (ACU) and utilisation (%)", [
                database.cluster.metric("ServerlessDatabaseCapacity", label="capacity (ACU)", period=ONE_MINUTE,
                                        statistic=cloudwatch.Stats.AVERAGE)],
                right=[database.cluster.metric("ACUUtilization", label="utilisation (%)", period=ONE_MINUTE,
                                               statistic=cloudwatch.Stats.AVERAGE)]))
        self.dashboard.add_widgets(
            _graph("Database connections", [
                database.cluster.metric("DatabaseConnections", label="Aurora", period=ONE_MINUTE,
                                        statistic=cloudwatch.Stats.MAXIMUM),
                _proxy_metric(proxy_name, "ClientConnections", label="proxy clients", period=ONE_MINUTE),
                _proxy_metric(proxy_name, "DatabaseConnections", label="proxy to Aurora", period=ONE_MINUTE)]),
            cloudwatch.AlarmStatusWidget(
                title="Alarms", width=WIDTH, alarms=[*self.queue_age_alarms.values(), self.capacity_alarm,
                                                     self.connections_alarm,
                                                     *(q.dlq_alarm for q in active.values()),
                                                     queues.quarantine.alarm]))


def _graph(title: str, left: Sequence[cloudwatch.IMetric], *, right: Sequence[cloudwatch.IMetric] = (),
           alarm_line: float | None = None) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(
        title=title, width=WIDTH, left=list(left), right=list(right) or None,
        left_annotations=[cloudwatch.HorizontalAnnotation(value=alarm_line, label="alarm")] if alarm_line else None)


def _proxy_metric(proxy_name: str, metric_name: str, *, label: str | None = None,
                  period: cdk.Duration = FIVE_MINUTES) -> cloudwatch.Metric:
    # RDS Proxy publishes one series per proxy host: Sum adds them up for the proxy.
    return cloudwatch.Metric(namespace="AWS/RDS", metric_name=metric_name, dimensions_map={"ProxyName": proxy_name},
                             statistic=cloudwatch.Stats.SUM, period=period, label=label)


def _task_count(cluster: ecs.ICluster, service: ecs.FargateService, metric_name: str, label: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(namespace="ECS/ContainerInsights", metric_name=metric_name, label=label,
                             dimensions_map={"ClusterName": cluster.cluster_name, "ServiceName": service.service_name},
                             statistic=cloudwatch.Stats.MAXIMUM, period=ONE_MINUTE)


def _label(function: PythonFunction) -> str:
    return function.node.id


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
