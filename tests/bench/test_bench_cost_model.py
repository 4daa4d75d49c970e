"""The cost model prices the deployed alert path and the measured inputs; the record sizes follow
DynamoDB's documented rules."""

from __future__ import annotations

import dataclasses

import pytest

from bench import bench_cost_model as model
from bench.bench_log_bytes import access_log_bytes, gzip_ratio, record_costs
from bench.item_size import item_size, units, value_size
from card_transactions.stacks.config import Settings

PER_TX = {**model.DEFAULT_PER_TX, "fraud_invocations": 0.1}
CPU = {"validation": 200.0, "fraud": 150.0}


def test_one_stream_reader_is_priced_with_the_bus_events():
    settings = Settings()
    design = model.current_design(settings)
    assert (design.stream_readers, design.alert_bus) == (1, True)
    reads = 1 * model.STREAM_SHARDS * model.STREAM_POLLS_PER_SECOND * model.SECONDS_PER_MONTH
    assert model.stream_reads(design) == reads - model.FREE_STREAM_READS
    line = "EventBridge (pipe, stream reads, bus)"
    one = model.monthly_cost(1_000_000, PER_TX, CPU, settings, design)[line]
    two = model.monthly_cost(1_000_000, PER_TX, CPU, settings, dataclasses.replace(design, stream_readers=2))
    alerts = 1_000_000 * PER_TX["sns_publishes"]
    assert one == pytest.approx(
        alerts * (0.40 + 1.00) / 1e6 + (reads - model.FREE_STREAM_READS) * 0.02 / 100_000
    )
    assert two[line] - one == pytest.approx(reads * 0.02 / 100_000 + alerts * 0.40 / 1e6)


def test_measured_inputs_replace_the_assumptions_one_by_one():
    measured = model.Inputs(
        log_bytes_per_tx=3000, log_archive_ratio=0.2, record_bytes=500, dynamodb_write_units=5
    )
    steps = model.input_changes(measured)
    assert [inputs for _, inputs in steps][-1] == measured
    assert steps[0][1] == dataclasses.replace(model.ASSUMED, log_bytes_per_tx=3000)
    assert "6000 -> 3000" in steps[0][0]
    settings = Settings()
    costs = [
        model.monthly_cost(1_000_000, PER_TX, CPU, settings, inputs=i) for i in (model.ASSUMED, measured)
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


def test_enqueue_from_the_stream_trades_the_endpoint_for_one_event_a_transaction():
    settings = Settings()
    design = model.current_design(settings)
    outbox = dataclasses.replace(design, queue_from_stream=True, interface_endpoints=0)
    now = model.monthly_cost(1_000_000, PER_TX, CPU, settings, design)
    option = model.monthly_cost(1_000_000, PER_TX, CPU, settings, outbox)
    line = "EventBridge (pipe, stream reads, bus)"
    assert option["VPC endpoints"] == 0
    assert now["VPC endpoints"] == pytest.approx(settings.availability_zone_count * 730 * 0.01)
    assert option[line] - now[line] == pytest.approx(1_000_000 * (0.40 + 1.00) / 1e6)
    assert option["SQS"] == now["SQS"]  # the rule sends what the function sent
    assert option["Lambda"] < now["Lambda"]  # one AWS call fewer in the validation function
    option_note = "design option, not applied: enqueue from the table's stream"
    assert any(note.startswith(option_note) for note in model.run(PER_TX, CPU).notes)
