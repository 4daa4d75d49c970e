"""Monthly cost model at 100k, 1M and 10M transactions, from measured requests and CPU time.

Inputs: billed AWS requests per transaction (``bench_requests``: counted with botocore hooks through
the local runtime), CPU per record (``bench_warm_cost``), the deployed configuration (memory,
architecture, AZs, interface endpoints, alarms), and published us-east-1/us-east-2 list prices (cited
below; the two regions share these prices). Modelling assumptions are stated next to each line.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass

from bench.report import Section, print_section
from stacks.config import Settings
from stacks.constructs.network import INTERFACE_ENDPOINT_SERVICES

HOURS_PER_MONTH = 730
VOLUMES = (100_000, 1_000_000, 10_000_000)
ORIGINAL_AT_1M = {  # the original README's cost table (Pulumi system), USD per month at 1M transactions
    "Lambda": 35.02,
    "API Gateway": 3.50,
    "DynamoDB": 2.50,
    "SQS": 0.80,
    "SNS": 0.50,
    "VPC endpoints": 43.20,
    "KMS": 1.90,
    "CloudWatch (logs, alarms, dashboard)": 5.00,
    "WAF": 6.00,
}


@dataclass(frozen=True)
class Prices:
    """USD list prices, us-east-1 = us-east-2. Sources: the AWS pricing pages named on each line."""

    lambda_gb_second_arm: float = 0.0000133334  # aws.amazon.com/lambda/pricing (Arm, first 6B GB-s)
    lambda_gb_second_x86: float = 0.0000166667  # aws.amazon.com/lambda/pricing (x86)
    lambda_request: float = 0.20 / 1e6  # aws.amazon.com/lambda/pricing
    api_rest_request: float = 3.50 / 1e6  # aws.amazon.com/api-gateway/pricing (REST, first 333M)
    sqs_request: float = 0.40 / 1e6  # aws.amazon.com/sqs/pricing (standard, per 64 KB chunk)
    sns_publish: float = 0.50 / 1e6  # aws.amazon.com/sns/pricing (standard topics)
    dynamodb_write_unit: float = 0.625 / 1e6  # aws.amazon.com/dynamodb/pricing/on-demand (Nov 2024 cut)
    dynamodb_read_unit: float = 0.125 / 1e6  # aws.amazon.com/dynamodb/pricing/on-demand
    dynamodb_storage_gb: float = 0.25  # same page, per GB-month
    dynamodb_pitr_gb: float = 0.20  # same page, continuous backups per GB-month
    interface_endpoint_az_hour: float = 0.01  # aws.amazon.com/privatelink/pricing
    kms_key_month: float = 1.00  # aws.amazon.com/kms/pricing
    kms_request: float = 0.03 / 10_000  # aws.amazon.com/kms/pricing
    waf_acl_month: float = 5.00  # aws.amazon.com/waf/pricing
    waf_rule_month: float = 1.00  # aws.amazon.com/waf/pricing (each rule or rule group)
    waf_request: float = 0.60 / 1e6  # aws.amazon.com/waf/pricing
    logs_ingest_gb: float = 0.50  # aws.amazon.com/cloudwatch/pricing (standard logs)
    logs_store_gb_month: float = 0.03  # same page
    alarm_metric_month: float = 0.10  # same page (standard resolution, per metric in an alarm)
    dashboard_month: float = 3.00  # same page (beyond the 3 free dashboards)
    xray_trace: float = 5.00 / 1e6  # aws.amazon.com/xray/pricing (recorded; first 100k free)


# Modelling assumptions (stated, not measured here):
AWS_CALL_MS = 8.0  # in-region latency of one DynamoDB/SQS/SNS call from a warm function
ESM_POLL_REQUESTS = 2 * 5 * 3 * 60 * 24 * 30  # 2 queues x 5 long-pollers x 3 polls/min, idle or not
LOG_BYTES_PER_TX = 6_000  # function logs + EMF + API access and INFO execution logs + WAF log line
RECORD_BYTES = 600  # one transaction item with its index entry
KMS_REQUESTS_PER_MONTH = 60_000  # data-key reuse (SQS 5 min, DynamoDB table key), cold-start env decrypts
XRAY_ENTRY_POINTS = 2  # the API->validation trace and the fraud-detection invocation trace
XRAY_RESERVOIR = 3600 * HOURS_PER_MONTH  # default sampling rule: 1 request/s, then 5% of the rest
XRAY_RATE = 0.05
FREE_XRAY_TRACES = 100_000


def sampled_traces(transactions: int) -> float:
    """Traces recorded per month by X-Ray's default sampling rule, for uniform traffic."""
    per_entry = min(transactions, XRAY_RESERVOIR) + XRAY_RATE * max(0, transactions - XRAY_RESERVOIR)
    return XRAY_ENTRY_POINTS * per_entry


def _function_gb_seconds(memory_mb: int, cpu_us: float, aws_calls: float) -> float:
    billed_ms = math.ceil(cpu_us / 1000 + aws_calls * AWS_CALL_MS)
    return memory_mb / 1024 * billed_ms / 1000


def monthly_cost(
    transactions: int,
    per_tx: dict[str, float],
    cpu_us: dict[str, float],
    settings: Settings,
    prices: Prices = Prices(),
) -> dict[str, float]:
    """USD per month, by the original README's line items (plus X-Ray, which it left out)."""
    gb_second = (
        prices.lambda_gb_second_arm
        if settings.lambda_architecture == "arm64"
        else prices.lambda_gb_second_x86
    )
    validation = _function_gb_seconds(
        settings.validation_memory_mb, cpu_us["validation"], per_tx["validation_calls"]
    )
    fraud = _function_gb_seconds(settings.fraud_memory_mb, cpu_us["fraud"], per_tx["fraud_calls"])
    stored_gb = transactions * RECORD_BYTES / 1e9 * 6  # six months of records on average over a year
    logs_gb = transactions * LOG_BYTES_PER_TX / 1e9
    endpoints = len(INTERFACE_ENDPOINT_SERVICES) * settings.availability_zone_count
    alarm_metrics = 3 * 2 + 4  # error-rate alarms use two metrics each; DLQ, async DLQ, age, 5xx one each
    waf_rules = 5  # four managed rule groups + the rate-based rule
    return {
        "Lambda": transactions
        * ((1 + per_tx["fraud_invocations"]) * prices.lambda_request + (validation + fraud) * gb_second),
        "API Gateway": transactions * prices.api_rest_request,
        "DynamoDB": transactions
        * (
            per_tx["dynamodb_write_units"] * prices.dynamodb_write_unit
            + per_tx["dynamodb_read_units"] * prices.dynamodb_read_unit
        )
        + stored_gb * (prices.dynamodb_storage_gb + prices.dynamodb_pitr_gb),
        "SQS": (transactions * per_tx["sqs_requests"] + ESM_POLL_REQUESTS) * prices.sqs_request,
        "SNS": transactions * per_tx["sns_publishes"] * prices.sns_publish,
        "VPC endpoints": endpoints * HOURS_PER_MONTH * prices.interface_endpoint_az_hour,
        "KMS": 2 * prices.kms_key_month + KMS_REQUESTS_PER_MONTH * prices.kms_request,
        "CloudWatch (logs, alarms, dashboard)": logs_gb
        * (prices.logs_ingest_gb + 6 * prices.logs_store_gb_month)
        + alarm_metrics * prices.alarm_metric_month
        + prices.dashboard_month,
        "WAF": prices.waf_acl_month + waf_rules * prices.waf_rule_month + transactions * prices.waf_request,
        "X-Ray": max(0.0, sampled_traces(transactions) - FREE_XRAY_TRACES) * prices.xray_trace,
    }


HALVING = {
    "VPC endpoints": (
        "the SNS endpoint exists only because two functions publish alerts from inside the VPC; "
        "publishing from outside it (DynamoDB Streams -> EventBridge Pipes -> SNS on the FRAUD_SUSPECTED and "
        "FAILED transitions) removes that endpoint, half of the endpoint bill, with the same encryption, TLS "
        "and least privilege; sharing one endpoint set across environments (a shared-services VPC) halves "
        "it again."
    ),
    "CloudWatch (logs, alarms, dashboard)": (
        "the Infrequent Access log class ($0.25/GB ingested instead of $0.50) for the flow-log, WAF and API "
        "execution log groups, which are kept for audit and rarely queried, halves ingestion with the same "
        "KMS encryption and 365-day retention."
    ),
    "X-Ray": (
        "an X-Ray sampling rule for the API (reservoir 1/s, then 2.5% instead of 5%) halves recorded traces; "
        "tracing is for diagnosis, not a security control, and every request stays in the access logs."
    ),
}

DEFAULT_PER_TX = {  # docs/handlers.md, used when bench_requests did not run
    "validation_calls": 2,
    "fraud_calls": 1,
    "sqs_requests": 3,
    "sns_publishes": 0.01,
    "fraud_invocations": 1,
    "dynamodb_write_units": 3,
    "dynamodb_read_units": 0.01,
}


def run(per_tx: dict[str, float] | None = None, cpu_us: dict[str, float] | None = None) -> Section:
    settings = Settings()
    per_tx = per_tx or DEFAULT_PER_TX
    cpu_us = cpu_us or {"validation": 150.0, "fraud": 120.0}
    costs = {volume: monthly_cost(volume, per_tx, cpu_us, settings) for volume in VOLUMES}
    rows = [
        (item, ORIGINAL_AT_1M.get(item, "-"), *(round(costs[v][item], 2) for v in VOLUMES))
        for item in costs[VOLUMES[0]]
    ]
    totals = {v: sum(costs[v].values()) for v in VOLUMES}
    rows.append(("**total**", sum(ORIGINAL_AT_1M.values()), *(round(totals[v], 2) for v in VOLUMES)))
    largest = max(costs[1_000_000], key=lambda item: costs[1_000_000][item])
    largest_10m = max(costs[10_000_000], key=lambda item: costs[10_000_000][item])
    section = Section(
        title="Monthly cost model (USD, us-east-2 list prices)",
        header=("item", "original @1M", "100k tx", "1M tx", "10M tx"),
        rows=rows,
        notes=[
            "inputs per transaction: "
            + ", ".join(f"{k} {v:.3g}" for k, v in per_tx.items())
            + "; CPU per record: "
            + ", ".join(f"{k} {v:.0f} us" for k, v in cpu_us.items())
            + ".",
            f"assumed: {AWS_CALL_MS} ms per AWS call inside a function; {LOG_BYTES_PER_TX} log bytes per "
            f"transaction; ESM long-polling {ESM_POLL_REQUESTS:,} SQS requests/month; "
            f"X-Ray default sampling (1/s + 5%) on {XRAY_ENTRY_POINTS} entry points; "
            f"{len(INTERFACE_ENDPOINT_SERVICES)} interface "
            f"endpoints x {settings.availability_zone_count} AZs.",
            f"largest item at 1M: {largest} (${costs[1_000_000][largest]:.2f}).",
            f"halving it without weakening a control: {HALVING[largest]}"
            if largest in HALVING
            else f"no halving plan is recorded for {largest}.",
            f"at 10M the largest item is {largest_10m} (${costs[10_000_000][largest_10m]:.2f})"
            + (f": {HALVING[largest_10m]}" if largest_10m in HALVING else "."),
            "the original's Lambda line ($35) assumed far longer, larger invocations: measured CPU per "
            "record is ~0.1 ms, so billed time is dominated by the 2-3 AWS calls per transaction.",
        ],
    )
    section.headlines["cost"] = (
        f"${totals[1_000_000]:.0f}/month at 1M transactions (original estimate "
        f"${sum(ORIGINAL_AT_1M.values()):.0f}); largest item {largest}"
    )
    return section


if __name__ == "__main__":
    arguments = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    print_section(run(arguments.get("per_tx"), arguments.get("cpu_us")))
