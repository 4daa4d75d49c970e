"""CloudWatch alarms (all notifying the alerts topic) and the operations dashboard."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from constructs import Construct

ERROR_RATE_PERCENT = 1
ERROR_RATE_PERIOD_SECONDS = 600
OLDEST_MESSAGE_AGE_SECONDS = 300
API_5XX_RATE = 0.01
EVENT_PERIOD_SECONDS = 300  # counts of events (FAILED, stale, delivery failures): any in 5 minutes alarms


@dataclass(frozen=True)
class AlarmMetric:
    """The one metric an alarm watches, and how: ``statistic`` over ``period`` s above ``threshold``."""

    namespace: str
    metric_name: str
    dimensions: Mapping[str, str]
    statistic: str
    period: int
    threshold: float


@dataclass(frozen=True)
class MonitoredResources:
    """What the alarms and the dashboard watch, by name."""

    function_names: Sequence[str]
    queue_name: str
    dlq_name: str
    async_failure_queue_name: str
    api_name: str
    stage_name: str
    topic_name: str
    metrics_namespace: str
    fraud_service: str
    failed_service: str
    reconciler_service: str
    reconciler_function_name: str
    reconcile_every_minutes: int
    alert_dlq_name: str
    card_data_log_groups: Sequence[str] = ()  # log groups with a card-data protection policy


def _lambda_metric(query_id: str, metric: str, function_name: str) -> CloudwatchMetricAlarmMetricQuery:
    return CloudwatchMetricAlarmMetricQuery(
        id=query_id,
        return_data=False,
        metric=CloudwatchMetricAlarmMetricQueryMetric(
            namespace="AWS/Lambda",
            metric_name=metric,
            dimensions={"FunctionName": function_name},
            period=ERROR_RATE_PERIOD_SECONDS,
            stat="Sum",
        ),
    )


def runbook_anchor(heading: str) -> str:
    """The anchor GitHub (and most Markdown renderers) give a heading: lower case, punctuation dropped,
    spaces as hyphens."""
    kept = "".join(c for c in heading.lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


# The runbook section (a heading of docs/runbooks.md) of each kind of alarm.
RUNBOOK_SECTIONS = {
    "error_rate": "Function error rate",
    "dlq": "Dead-letter queue not empty",
    "async_failures": "Async-failure queue not empty",
    "backlog": "Transactions queue backlog",
    "api_5xx": "API 5xx rate",
    "failed": "Transactions FAILED",
    "retries_exhausted": "Transactions exhausted their retries",
    "delivery_failures": "Alert deliveries failed",
    "alert_dlq": "Alert dead-letter queue not empty",
    "stale": "Stale pending transactions",
    "reconciler_silent": "Reconciler not running",
    "card_data_in_logs": "Card data found in logs",
}


class Monitoring(Construct):
    """Alarms and dashboard.

    Default settings: every alarm has actions enabled and notifies the alerts topic (and
    ``forward_topic_arn`` when set) on ALARM and OK; its description ends with the link to its runbook
    section. Missing data is "not breaching" (no traffic, or an idle queue whose metrics SQS stopped
    sending, is not an incident) except for the reconciler's heartbeat, where silence is the failure.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        region: str,
        alarm_topic_arn: str,
        watched: MonitoredResources,
        runbook_url: str,
        forward_topic_arn: str = "",
    ) -> None:
        super().__init__(scope, id_)
        w = watched
        self._actions = [alarm_topic_arn, *([forward_topic_arn] if forward_topic_arn else [])]
        self._runbook_url = runbook_url
        self.alarms: list[CloudwatchMetricAlarm] = []
        for function_name in w.function_names:
            self._error_rate_alarm(function_name)
        self._queue_alarms(w)
        self._api_alarm(w)
        self._processing_alarms(name, w)
        if w.card_data_log_groups:
            self._card_data_alarm(f"{name}-card-data-in-logs", w.card_data_log_groups)
        self._add_dashboard(name, region, w)

    def _queue_alarms(self, w: MonitoredResources) -> None:
        """Messages waiting in a queue that should stay empty; the transactions queue falling behind."""
        for queue_id, queue, kind, what in (
            ("DeadLetterQueueNotEmpty", w.dlq_name, "dlq", "messages were dead-lettered"),
            (
                "AsyncFailureQueueNotEmpty",
                w.async_failure_queue_name,
                "async_failures",
                "a scheduled reconciler run failed for good",
            ),
            (
                "AlertDeadLetterQueueNotEmpty",
                w.alert_dlq_name,
                "alert_dlq",
                "alerts could not be published, or transactions enqueued from the table's stream",
            ),
        ):
            self._alarm(
                queue_id,
                f"{queue}-not-empty",
                f"Messages are waiting in {queue}: {what}",
                kind,
                AlarmMetric(
                    "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": queue}, "Maximum", 60, 0
                ),
            )
        self._alarm(
            "OldestMessageAge",
            f"{w.queue_name}-oldest-message-age",
            f"The oldest message in {w.queue_name} waited more than {OLDEST_MESSAGE_AGE_SECONDS} s: "
            "scoring is behind or a dependency is failing",
            "backlog",
            AlarmMetric(
                "AWS/SQS",
                "ApproximateAgeOfOldestMessage",
                {"QueueName": w.queue_name},
                "Maximum",
                60,
                OLDEST_MESSAGE_AGE_SECONDS,
            ),
            evaluation_periods=5,
        )

    def _api_alarm(self, w: MonitoredResources) -> None:
        self._alarm(
            "Api5xxRate",
            f"{w.api_name}-5xx-rate",
            f"More than {API_5XX_RATE:.0%} of API requests failed with 5xx",
            "api_5xx",
            AlarmMetric(
                "AWS/ApiGateway",
                "5XXError",
                {"ApiName": w.api_name, "Stage": w.stage_name},
                "Average",
                300,
                API_5XX_RATE,
            ),
            evaluation_periods=2,
        )

    def _processing_alarms(self, name: str, w: MonitoredResources) -> None:
        """The functions' own metrics (failed, exhausted, stale, reconciler heartbeat) and SNS delivery."""

        def custom(service: str, metric: str, period: int = EVENT_PERIOD_SECONDS) -> AlarmMetric:
            return AlarmMetric(w.metrics_namespace, metric, {"service": service}, "Sum", period, 0)

        self._alarm(
            "TransactionsFailed",
            f"{name}-transactions-failed",
            "Transactions ended FAILED: their queue message was invalid",
            "failed",
            custom(w.failed_service, "TransactionsFailed"),
        )
        self._alarm(
            "TransactionsRetriesExhausted",
            f"{name}-transactions-retries-exhausted",
            "Transactions exhausted their retries on a failing dependency; the reconciler re-enqueues them",
            "retries_exhausted",
            custom(w.failed_service, "TransactionsRetriesExhausted"),
        )
        self._alarm(
            "AlertDeliveriesFailed",
            f"{w.topic_name}-delivery-failures",
            f"SNS could not deliver notifications of {w.topic_name} to a subscriber",
            "delivery_failures",
            AlarmMetric(
                "AWS/SNS",
                "NumberOfNotificationsFailed",
                {"TopicName": w.topic_name},
                "Sum",
                EVENT_PERIOD_SECONDS,
                0,
            ),
        )
        reconcile_period = w.reconcile_every_minutes * 60
        self._alarm(
            "StalePendingTransactions",
            f"{w.reconciler_function_name}-stale-transactions",
            "The reconciler found transactions pending too long and re-enqueued them",
            "stale",
            custom(w.reconciler_service, "StaleTransactionsFound", reconcile_period),
        )
        self._alarm(
            "ReconcilerNotRunning",
            f"{w.reconciler_function_name}-not-running",
            "The reconciler did not run for two schedule periods: stale transactions would go unnoticed",
            "reconciler_silent",
            AlarmMetric(
                w.metrics_namespace,
                "ReconcilerRuns",
                {"service": w.reconciler_service},
                "Sum",
                2 * reconcile_period,
                1,
            ),
            comparison="LessThanThreshold",
            evaluation_periods=2,
            treat_missing_data="breaching",
        )

    def _add_dashboard(self, name: str, region: str, w: MonitoredResources) -> None:
        self.dashboard = CloudwatchDashboard(
            self,
            "Dashboard",
            dashboard_name=name,
            dashboard_body=json.dumps(_dashboard(region=region, watched=w)),
        )
        self.dashboard_url = (
            f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name={name}"
        )

    def _description(self, text: str, kind: str) -> str:
        return f"{text}. Runbook: {self._runbook_url}#{runbook_anchor(RUNBOOK_SECTIONS[kind])}"

    def _alarm(
        self,
        id_: str,
        alarm_name: str,
        description: str,
        kind: str,
        metric: AlarmMetric,
        *,
        comparison: str = "GreaterThanThreshold",
        treat_missing_data: str = "notBreaching",
        evaluation_periods: int = 1,
    ) -> None:
        self.alarms.append(
            CloudwatchMetricAlarm(
                self,
                id_,
                alarm_name=alarm_name,
                alarm_description=self._description(description, kind),
                comparison_operator=comparison,
                evaluation_periods=evaluation_periods,
                treat_missing_data=treat_missing_data,
                namespace=metric.namespace,
                metric_name=metric.metric_name,
                dimensions=dict(metric.dimensions),
                statistic=metric.statistic,
                period=metric.period,
                threshold=metric.threshold,
                alarm_actions=self._actions,
                ok_actions=self._actions,
                actions_enabled=True,
            )
        )

    def _error_rate_alarm(self, function_name: str) -> None:
        camel = "".join(part.capitalize() for part in function_name.replace("_", "-").split("-"))
        self.alarms.append(
            CloudwatchMetricAlarm(
                self,
                f"{camel}ErrorRate",
                alarm_name=f"{function_name}-error-rate",
                alarm_description=self._description(
                    f"{function_name}: errors above {ERROR_RATE_PERCENT}% of invocations over 10 minutes",
                    "error_rate",
                ),
                comparison_operator="GreaterThanThreshold",
                threshold=ERROR_RATE_PERCENT,
                evaluation_periods=1,
                treat_missing_data="notBreaching",
                metric_query=[
                    _lambda_metric("errors", "Errors", function_name),
                    _lambda_metric("invocations", "Invocations", function_name),
                    CloudwatchMetricAlarmMetricQuery(
                        id="error_rate",
                        expression="IF(invocations > 0, 100 * errors / invocations, 0)",
                        label="Error rate (%)",
                        return_data=True,
                    ),
                ],
                alarm_actions=self._actions,
                ok_actions=self._actions,
                actions_enabled=True,
            )
        )

    def _card_data_alarm(self, alarm_name: str, log_groups: Sequence[str]) -> None:
        """Any log event in which a data protection policy found card data (``LogEventsWithFindings``),
        summed over every protected group: such an event was masked, but card data reached a log."""
        self.alarms.append(
            CloudwatchMetricAlarm(
                self,
                "CardDataInLogs",
                alarm_name=alarm_name,
                alarm_description=self._description(
                    "A data protection policy found card data in a log event (masked): find the source",
                    "card_data_in_logs",
                ),
                comparison_operator="GreaterThanThreshold",
                threshold=0,
                evaluation_periods=1,
                treat_missing_data="notBreaching",
                metric_query=[
                    *(_findings_metric(f"group{i}", group) for i, group in enumerate(log_groups)),
                    CloudwatchMetricAlarmMetricQuery(
                        id="findings",
                        expression="SUM(METRICS())",
                        label="Log events with card-data findings",
                        return_data=True,
                    ),
                ],
                alarm_actions=self._actions,
                ok_actions=self._actions,
                actions_enabled=True,
            )
        )


def _findings_metric(query_id: str, log_group: str) -> CloudwatchMetricAlarmMetricQuery:
    return CloudwatchMetricAlarmMetricQuery(
        id=query_id,
        return_data=False,
        metric=CloudwatchMetricAlarmMetricQueryMetric(
            namespace="AWS/Logs",
            metric_name="LogEventsWithFindings",
            dimensions={"LogGroupName": log_group},
            period=EVENT_PERIOD_SECONDS,
            stat="Sum",
        ),
    )


def _widget(
    title: str, metrics: list[list[Any]], *, region: str, stat: str = "Sum", x: int, y: int
) -> dict[str, Any]:
    return {
        "type": "metric",
        "x": x,
        "y": y,
        "width": 12,
        "height": 6,
        "properties": {
            "title": title,
            "region": region,
            "stat": stat,
            "period": 60,
            "view": "timeSeries",
            "metrics": metrics,
        },
    }


# Dashboard widget titles the runbooks (docs/runbooks.md) point at.
RECOVERY_WIDGET = "Recovery: failed, exhausted, stale and re-enqueued transactions"
ALERTS_WIDGET = "Alerts topic: published and failed deliveries"


def _dashboard(*, region: str, watched: MonitoredResources) -> dict[str, Any]:
    w = watched
    functions = w.function_names

    def per_function(metric: str) -> list[list[Any]]:
        return [["AWS/Lambda", metric, "FunctionName", fn] for fn in functions]

    duration = [
        ["AWS/Lambda", "Duration", "FunctionName", fn, {"stat": "p99", "label": f"{fn} p99"}]
        for fn in functions
    ]
    sqs: list[list[Any]] = [
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", w.queue_name],
        [
            "AWS/SQS",
            "ApproximateAgeOfOldestMessage",
            "QueueName",
            w.queue_name,
            {"stat": "Maximum", "yAxis": "right"},
        ],
        ["AWS/SQS", "NumberOfMessagesSent", "QueueName", w.queue_name],
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", w.dlq_name],
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", w.async_failure_queue_name],
    ]
    api_metrics = [
        ["AWS/ApiGateway", metric, "ApiName", w.api_name, "Stage", w.stage_name]
        for metric in ("Count", "4XXError", "5XXError")
    ]
    ns = w.metrics_namespace
    recovery = [
        [ns, "RecordsFailed", "service", w.fraud_service],
        [ns, "TransactionsFailed", "service", w.failed_service],
        [ns, "TransactionsRetriesExhausted", "service", w.failed_service],
        [ns, "StaleTransactionsFound", "service", w.reconciler_service],
        [ns, "TransactionsRequeued", "service", w.reconciler_service],
        [ns, "ReconcilerRuns", "service", w.reconciler_service],
    ]
    alerts = [
        ["AWS/SNS", metric, "TopicName", w.topic_name]
        for metric in (
            "NumberOfMessagesPublished",
            "NumberOfNotificationsDelivered",
            "NumberOfNotificationsFailed",
        )
    ]
    return {
        "widgets": [
            _widget("Lambda invocations", per_function("Invocations"), region=region, x=0, y=0),
            _widget("Lambda errors", per_function("Errors"), region=region, x=12, y=0),
            _widget("Lambda duration (p99, ms)", duration, region=region, stat="p99", x=0, y=6),
            _widget("Lambda throttles", per_function("Throttles"), region=region, x=12, y=6),
            _widget("SQS transactions queue and DLQ", sqs, region=region, stat="Maximum", x=0, y=12),
            _widget("API requests and errors", api_metrics, region=region, x=12, y=12),
            _widget(RECOVERY_WIDGET, recovery, region=region, x=0, y=18),
            _widget(ALERTS_WIDGET, alerts, region=region, x=12, y=18),
        ]
    }
