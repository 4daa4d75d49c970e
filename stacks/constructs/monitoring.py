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


@dataclass(frozen=True)
class AlarmMetric:
    """The one metric an alarm watches, and how: ``statistic`` over ``period`` s above ``threshold``."""

    namespace: str
    metric_name: str
    dimensions: Mapping[str, str]
    statistic: str
    period: int
    threshold: float


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


class Monitoring(Construct):
    """Alarms and dashboard.

    Default settings: every alarm has actions enabled and notifies the alerts topic on ALARM and OK;
    missing data is "not breaching" (no traffic is not an incident) except for the DLQ alarm where
    any message is one.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        region: str,
        alarm_topic_arn: str,
        function_names: Sequence[str],
        queue_name: str,
        dlq_name: str,
        async_failure_queue_name: str,
        api_name: str,
        stage_name: str,
    ) -> None:
        super().__init__(scope, id_)
        self._topic_arn = alarm_topic_arn
        self.alarms: list[CloudwatchMetricAlarm] = []
        for function_name in function_names:
            self._error_rate_alarm(function_name)
        for queue_id, queue in (
            ("DeadLetterQueueNotEmpty", dlq_name),
            ("AsyncFailureQueueNotEmpty", async_failure_queue_name),
        ):
            self._alarm(
                queue_id,
                f"{queue}-not-empty",
                f"Messages are waiting in {queue}: transactions failed processing",
                AlarmMetric(
                    "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": queue}, "Maximum", 60, 0
                ),
            )
        self._alarm(
            "OldestMessageAge",
            f"{queue_name}-oldest-message-age",
            f"The oldest message in {queue_name} waited more than {OLDEST_MESSAGE_AGE_SECONDS} s",
            AlarmMetric(
                "AWS/SQS",
                "ApproximateAgeOfOldestMessage",
                {"QueueName": queue_name},
                "Maximum",
                60,
                OLDEST_MESSAGE_AGE_SECONDS,
            ),
            evaluation_periods=5,
            treat_missing_data="notBreaching",
        )
        self._alarm(
            "Api5xxRate",
            f"{api_name}-5xx-rate",
            f"More than {API_5XX_RATE:.0%} of API requests failed with 5xx",
            AlarmMetric(
                "AWS/ApiGateway",
                "5XXError",
                {"ApiName": api_name, "Stage": stage_name},
                "Average",
                300,
                API_5XX_RATE,
            ),
            evaluation_periods=2,
            treat_missing_data="notBreaching",
        )
        self.dashboard = CloudwatchDashboard(
            self,
            "Dashboard",
            dashboard_name=name,
            dashboard_body=json.dumps(
                _dashboard(
                    region=region,
                    functions=function_names,
                    queue=queue_name,
                    dlq=dlq_name,
                    api=api_name,
                    stage=stage_name,
                )
            ),
        )
        self.dashboard_url = (
            f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name={name}"
        )

    def _alarm(
        self,
        id_: str,
        alarm_name: str,
        description: str,
        metric: AlarmMetric,
        *,
        treat_missing_data: str = "breaching",
        evaluation_periods: int = 1,
    ) -> None:
        self.alarms.append(
            CloudwatchMetricAlarm(
                self,
                id_,
                alarm_name=alarm_name,
                alarm_description=description,
                comparison_operator="GreaterThanThreshold",
                evaluation_periods=evaluation_periods,
                treat_missing_data=treat_missing_data,
                namespace=metric.namespace,
                metric_name=metric.metric_name,
                dimensions=dict(metric.dimensions),
                statistic=metric.statistic,
                period=metric.period,
                threshold=metric.threshold,
                alarm_actions=[self._topic_arn],
                ok_actions=[self._topic_arn],
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
                alarm_description=(
                    f"{function_name}: errors above {ERROR_RATE_PERCENT}% of invocations over 10 minutes"
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
                alarm_actions=[self._topic_arn],
                ok_actions=[self._topic_arn],
                actions_enabled=True,
            )
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


def _dashboard(
    *, region: str, functions: Sequence[str], queue: str, dlq: str, api: str, stage: str
) -> dict[str, Any]:
    def per_function(metric: str) -> list[list[Any]]:
        return [["AWS/Lambda", metric, "FunctionName", fn] for fn in functions]

    duration = [
        ["AWS/Lambda", "Duration", "FunctionName", fn, {"stat": "p99", "label": f"{fn} p99"}]
        for fn in functions
    ]
    sqs: list[list[Any]] = [
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue],
        [
            "AWS/SQS",
            "ApproximateAgeOfOldestMessage",
            "QueueName",
            queue,
            {"stat": "Maximum", "yAxis": "right"},
        ],
        ["AWS/SQS", "NumberOfMessagesSent", "QueueName", queue],
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", dlq],
    ]
    api_metrics = [
        ["AWS/ApiGateway", metric, "ApiName", api, "Stage", stage]
        for metric in ("Count", "4XXError", "5XXError")
    ]
    return {
        "widgets": [
            _widget("Lambda invocations", per_function("Invocations"), region=region, x=0, y=0),
            _widget("Lambda errors", per_function("Errors"), region=region, x=12, y=0),
            _widget("Lambda duration (p99, ms)", duration, region=region, stat="p99", x=0, y=6),
            _widget("Lambda throttles", per_function("Throttles"), region=region, x=12, y=6),
            _widget("SQS transactions queue and DLQ", sqs, region=region, stat="Maximum", x=0, y=12),
            _widget("API requests and errors", api_metrics, region=region, x=12, y=12),
        ]
    }
