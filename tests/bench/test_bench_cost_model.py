"""The cost model prices what the synthesized stacks deploy and the measured inputs, no free tier; the
record sizes follow DynamoDB's documented rules."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from bench import bench_cost_model as model
from bench.bench_log_bytes import access_log_bytes, gzip_ratio, record_costs
from bench.item_size import item_size, units, value_size
from card_transactions.stacks.config import Settings

PER_TX = {**model.DEFAULT_PER_TX, "fraud_invocations": 0.1}
CPU = {"validation": 200.0, "fraud": 150.0}


@pytest.fixture(scope="module")
def deployed(synth_dir: Path) -> model.Deployed:
    docs = [json.loads(path.read_text()) for path in synth_dir.glob("stacks/*/cdk.tf.json")]
    return model.Deployed.from_stacks(docs)


@pytest.fixture(scope="module")
def design(deployed: model.Deployed) -> model.Design:
    return model.current_design(Settings(), deployed)


def test_the_deployed_system_costs_at_most_the_target_at_1m_on_the_last_measured_inputs(design):
    """Every control kept: a change that adds an interface endpoint, a pipe, alarms or rules beyond the
    budget fails here before bench/results.md says so."""
    costs = model.monthly_cost(
        1_000_000, model.DEFAULT_PER_TX, model.DEFAULT_CPU_US, Settings(), design, model.MEASURED
    )
    assert sum(costs.values()) <= model.TARGET_AT_1M
    assert costs["VPC endpoints"] == 0


def test_the_deployed_counts_come_from_the_synthesized_stacks(deployed):
    settings = Settings()
    assert deployed.interface_endpoints == 0  # no function calls SQS or SNS; DynamoDB's gateway is free
    assert (deployed.stream_readers, deployed.enqueues_from_stream) == (1, True)
    assert deployed.waf_rules == len(settings.waf_managed_rule_groups) + 2  # + per-IP and per-key rates
    assert (deployed.dashboards, deployed.kms_keys) == (1, 2)  # the state backend has its own key
    assert deployed.alarm_metrics > 15  # 15 alarms, the error rates and card-data alarm read several


def test_an_alarm_bills_each_metric_it_reads_and_only_interface_endpoints_bill():
    doc = {
        "resource": {
            "aws_cloudwatch_metric_alarm": {
                "plain": {"metric_name": "Errors"},
                "math": {"metric_query": [{"metric": [{}]}, {"metric": [{}]}, {"expression": "m1/m2"}]},
            },
            "aws_vpc_endpoint": {
                "g": {"vpc_endpoint_type": "Gateway"},
                "i": {"vpc_endpoint_type": "Interface"},
            },
            "aws_wafv2_web_acl": {"acl": {"rule": [{}, {}, {}]}},
        }
    }
    targets = {"aws_cloudwatch_event_target": {"t": {"arn": "${aws_sqs_queue.q.arn}"}}}
    counted = model.Deployed.from_stacks([doc, {"resource": {"aws_kms_key": {"k": {}}, **targets}}])
    assert counted == model.Deployed(
        alarm_metrics=3,
        dashboards=0,
        kms_keys=1,
        interface_endpoints=1,
        waf_rules=3,
        stream_readers=0,
        enqueues_from_stream=True,
    )


def test_one_stream_reader_is_priced_with_the_bus_events(design):
    settings = Settings()
    assert (design.stream_readers, design.alert_bus) == (1, True)
    reads = 1 * model.STREAM_SHARDS * model.STREAM_POLLS_PER_SECOND * model.SECONDS_PER_MONTH
    assert model.stream_reads(design) == reads  # no free tier
    line = "EventBridge (pipe, stream reads, bus)"
    one = model.monthly_cost(1_000_000, PER_TX, CPU, settings, design)[line]
    two = model.monthly_cost(1_000_000, PER_TX, CPU, settings, dataclasses.replace(design, stream_readers=2))
    piped = 1_000_000 * (PER_TX["sns_publishes"] + 1)  # each alert and each transaction's enqueue
    assert one == pytest.approx(piped * (0.40 + 1.00) / 1e6 + reads * 0.02 / 100_000)
    assert two[line] - one == pytest.approx(reads * 0.02 / 100_000 + piped * 0.40 / 1e6)


def test_the_fixed_lines_follow_the_deployed_counts(design):
    settings = Settings()
    more = dataclasses.replace(
        design,
        deployed=dataclasses.replace(
            design.deployed,
            alarm_metrics=design.deployed.alarm_metrics + 3,
            waf_rules=design.deployed.waf_rules + 1,
            kms_keys=design.deployed.kms_keys + 1,
        ),
    )
    base, grown = (model.monthly_cost(1_000_000, PER_TX, CPU, settings, d) for d in (design, more))
    assert grown["CloudWatch (logs, alarms, dashboard)"] - base[
        "CloudWatch (logs, alarms, dashboard)"
    ] == pytest.approx(0.30)
    assert grown["WAF"] - base["WAF"] == pytest.approx(1.00)
    assert grown["KMS"] - base["KMS"] == pytest.approx(1.00)


def test_the_free_tiers_are_reported_not_counted(design):
    """With no traffic the monthly items remain: 1 of 3 free dashboards ($3), 10 of the alarm metrics
    ($1), 2.5M of the stream reads ($0.50), 1M of the idle ESM polls ($0.40), 20,000 of the key
    requests ($0.06)."""
    settings = Settings()
    idle = model.free_tier_credit(PER_TX, CPU, settings, design, model.MEASURED, transactions=0)
    assert idle == pytest.approx(3.00 + 1.00 + 0.50 + 0.40 + 0.06)
    busy = model.free_tier_credit(PER_TX, CPU, settings, design, model.MEASURED)
    assert (
        idle
        < busy
        < sum(
            allowance * getattr(model.Prices(), price) for price, allowance in model.FREE_ALLOWANCES.items()
        )
    )


def test_measured_inputs_replace_the_assumptions_one_by_one():
    measured = model.Inputs(
        log_bytes_per_tx=3000, log_archive_ratio=0.2, record_bytes=500, dynamodb_write_units=5
    )
    steps = model.input_changes(measured)
    assert [inputs for _, inputs in steps][-1] == measured
    assert steps[0][1] == dataclasses.replace(model.ASSUMED, log_bytes_per_tx=3000)
    assert "6000 -> 3000" in steps[0][0]
    settings = Settings()
    design = model.current_design(settings, model.Deployed(25, 1, 2, 0, 6, 1, True))
    costs = [
        model.monthly_cost(1_000_000, PER_TX, CPU, settings, design, inputs=i)
        for i in (model.ASSUMED, measured)
    ]
    # DynamoDB: 2 more write units a transaction, 100 fewer stored bytes kept six months on average
    assert costs[1]["DynamoDB"] - costs[0]["DynamoDB"] == pytest.approx(2 * 0.625 - 0.1 * 6 * 0.45)
    logs = "CloudWatch (logs, alarms, dashboard)"
    assert costs[0][logs] - costs[1][logs] == pytest.approx(6 * (0.5 + 0.18) - 3 * (0.5 + 0.18 * 0.2))


def test_item_sizes_follow_dynamodbs_rules():
    assert value_size({"S": "héllo"}) == 6
    assert value_size({"N": "6000.25"}) == 4  # 6 significant digits -> 3 + 1
    assert value_size({"N": "-0.001"}) == 2
    assert value_size({"BOOL": True}) == value_size({"NULL": True}) == 1
    assert value_size({"L": [{"S": "ab"}, {"S": "c"}]}) == 3 + (2 + 1) + (1 + 1)
    assert value_size({"M": {"k": {"S": "v"}}}) == 3 + 1 + 1 + 1
    assert item_size({"id": {"S": "abc"}, "n": {"N": "12"}}) == (2 + 3) + (1 + 2)
    assert (units(1), units(1024), units(1025)) == (1, 1, 2)


def test_a_pending_record_and_its_verdict_cost_three_and_two_write_units():
    pending = {
        "transaction_id": {"S": "t1"},
        "merchant_id": {"S": "m1"},
        "received_epoch_ms": {"N": "1796551200000"},
        "status": {"S": "PENDING_FRAUD_CHECK"},
        "pending_shard": {"N": "3"},
        "pending_since_ms": {"N": "1796551200000"},
        "message": {"S": "{}" * 100},
    }
    final = {k: v for k, v in pending.items() if k not in ("pending_shard", "pending_since_ms", "message")}
    final["status"] = {"S": "APPROVED"}
    costs = record_costs(pending, final)
    assert (costs["put_units"], costs["update_units"]) == (3, 2)  # table + 2 indexes; table + pending delete
    assert costs["stored_bytes"] == item_size(final) + 100 + item_size(final, model_keys()) + 100


def model_keys() -> tuple[str, ...]:
    return ("merchant_id", "received_epoch_ms", "transaction_id")


def test_the_computed_log_lines_and_the_archive_ratio():
    assert 300 < access_log_bytes() < 600
    lines = ['{"level":"INFO","message":"transaction scored","service":"fraud"}'] * 50
    assert 0 < gzip_ratio(lines) < 0.5  # repetitive JSON compresses; 26 bytes per event remain


def test_the_queue_fed_from_the_stream_trades_the_endpoint_for_one_event_a_transaction(design, deployed):
    settings = Settings()
    sending = dataclasses.replace(design, queue_from_stream=False, interface_endpoints=1)
    now = model.monthly_cost(1_000_000, PER_TX, CPU, settings, design)
    before = model.monthly_cost(1_000_000, PER_TX, CPU, settings, sending)
    line = "EventBridge (pipe, stream reads, bus)"
    assert now["VPC endpoints"] == 0
    assert before["VPC endpoints"] == pytest.approx(settings.availability_zone_count * 730 * 0.01)
    assert now[line] - before[line] == pytest.approx(1_000_000 * (0.40 + 1.00) / 1e6)
    assert now["SQS"] == before["SQS"]  # the rule sends what the function sent
    assert now["Lambda"] < before["Lambda"]  # one AWS call fewer in the validation function
    notes = model.run(PER_TX, CPU, deployed=deployed).notes
    assert any(note.startswith("change: the queue fed from the table's stream") for note in notes)
    assert any(note.startswith("target <= $50 at 1M with every control kept: ") for note in notes)
