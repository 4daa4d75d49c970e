"""Bytes per accepted transaction: CloudWatch Logs ingestion, measured where the system writes the logs and
computed from their formats where AWS writes them; and the stored record, its index entries and the
write units they cost, measured on the records the runtime stores (``bench.item_size``).

* the functions' logs and EMF metrics: measured, every line the functions write in the local runtime
  (Powertools JSON logs at the deployed level ``FUNCTION_LOG_LEVEL``, EMF metric lines), per accepted
  transaction of the benchmark mix;
* Lambda's platform records (JSON log format: ``platform.start`` and ``platform.report`` per invocation),
  computed from their documented shape, times the invocations per transaction measured here;
* the API access log: one line of the stage's ``ACCESS_LOG_FORMAT`` with values of the sizes API Gateway
  writes; the API execution log is at ERROR, so a successful request writes none;
* the WAF log: one full-logging record per request (every rule group the ACL evaluates listed, the
  request's headers, the API key redacted), in the documented WAF log format.

CloudWatch Logs bills storage on the gzip-compressed size (level 6, plus 26 bytes per event): the
measured function lines are compressed here to give the ratio.
"""

from __future__ import annotations

import gzip
import json
import statistics
import sys
import uuid
from typing import Any

from bench.item_size import index_entry, item_size, units
from bench.load import local_runtime, mixed_transactions, processed_records, submit, wait_processed
from bench.report import Section, print_section
from card_transactions.settings.system import FUNCTION_LOG_LEVEL
from card_transactions.stacks.config import Settings
from card_transactions.stacks.constructs.api import ACCESS_LOG_FORMAT

CLIENTS = 4
# The transactions table's indexes: keys first, then the table's key and the projected attributes.
INDEXES = {
    "by merchant": ("merchant_id", "received_epoch_ms", "transaction_id"),
    "pending": ("pending_shard", "pending_since_ms", "transaction_id", "message"),
}
REQUEST_ID = str(uuid.UUID(int=0))
TRACE_ID = "1-67531f00-0123456789abcdef01234567"


def platform_bytes_per_invocation(memory_mb: int = 512) -> int:
    """Lambda's JSON platform records of one invocation (start and report, with the X-Ray trace)."""
    start = {
        "time": "2026-12-06T10:00:00.000Z",
        "type": "platform.start",
        "record": {
            "requestId": REQUEST_ID,
            "version": "$LATEST",
            "tracing": {
                "spanId": "0123456789abcdef",
                "type": "X-Amzn-Trace-Id",
                "value": f"Root={TRACE_ID};Parent=0123456789abcdef;Sampled=0",
            },
        },
    }
    report = {
        "time": "2026-12-06T10:00:00.025Z",
        "type": "platform.report",
        "record": {
            "requestId": REQUEST_ID,
            "metrics": {
                "durationMs": 24.51,
                "billedDurationMs": 25,
                "memorySizeMB": memory_mb,
                "maxMemoryUsedMB": 98,
            },
            "tracing": {
                "spanId": "0123456789abcdef",
                "type": "X-Amzn-Trace-Id",
                "value": f"Root={TRACE_ID};Parent=0123456789abcdef;Sampled=0",
            },
            "status": "success",
        },
    }
    return sum(len(json.dumps(r, separators=(",", ":"))) + 1 for r in (start, report))


def access_log_bytes() -> int:
    """One access-log line of a POST /transaction, as the stage's format writes it."""
    values = {
        "requestId": REQUEST_ID,
        "extendedRequestId": "CZ1aBGm3iYcEXYw=",
        "ip": "203.0.113.250",
        "requestTime": "06/Dec/2026:10:00:00 +0000",
        "httpMethod": "POST",
        "resourcePath": "/transaction",
        "status": "202",
        "protocol": "HTTP/1.1",
        "responseLength": "96",
        "responseLatency": "31",
        "integrationLatency": "29",
        "integrationError": "-",
        "apiKeyId": "a1b2c3d4e5",
        "wafStatus": "200",
        "xrayTraceId": f"Root={TRACE_ID}",
    }
    assert set(values) == set(ACCESS_LOG_FORMAT), "the access log format changed: update the sizes"
    return len(json.dumps(values, separators=(",", ":"))) + 1


def waf_log_bytes(managed_rule_groups: int) -> int:
    """One WAF full-logging record of an allowed POST /transaction (the documented log format)."""
    acl_id = "0123abcd-0123-4567-89ab-0123456789ab"
    acl = f"arn:aws:wafv2:us-east-2:123456789012:regional/webacl/transaction-api-dev/{acl_id}"
    header = {"name": "x-api-key", "value": "REDACTED"}
    headers = [
        {"name": "Host", "value": "abcdef1234.execute-api.us-east-2.amazonaws.com"},
        {"name": "Content-Type", "value": "application/json"},
        {"name": "Content-Length", "value": "96"},
        {"name": "User-Agent", "value": "python-requests/2.32.3"},
        {"name": "Accept", "value": "*/*"},
        {"name": "Accept-Encoding", "value": "gzip, deflate"},
        header,
    ]
    record = {
        "timestamp": 1796551200000,
        "formatVersion": 1,
        "webaclId": acl,
        "terminatingRuleId": "Default_Action",
        "terminatingRuleType": "REGULAR",
        "action": "ALLOW",
        "terminatingRuleMatchDetails": [],
        "httpSourceName": "APIGW",
        "httpSourceId": "123456789012:abcdef1234:prod",
        "ruleGroupList": [
            {
                "ruleGroupId": f"AWS#AWSManagedRulesGroup{i}",
                "terminatingRule": None,
                "nonTerminatingMatchingRules": [],
                "excludedRules": None,
                "customerConfig": None,
            }
            for i in range(managed_rule_groups)
        ],
        "rateBasedRuleList": [
            {
                "rateBasedRuleId": "0123abcd-0123-4567-89ab-0123456789ab",
                "rateBasedRuleName": "rate-limit",
                "limitKey": "IP",
                "maxRateAllowed": 2000,
                "evaluationWindowSec": "300",
            }
        ],
        "nonTerminatingMatchingRules": [],
        "requestHeadersInserted": None,
        "responseCodeSent": None,
        "httpRequest": {
            "clientIp": "203.0.113.250",
            "country": "US",
            "headers": headers,
            "uri": "/prod/transaction",
            "args": "",
            "httpVersion": "HTTP/1.1",
            "httpMethod": "POST",
            "requestId": "CZ1aBGm3iYcEXYw=",
            "fragment": "",
            "scheme": "https",
            "host": "abcdef1234.execute-api.us-east-2.amazonaws.com",
        },
        "ja3Fingerprint": "0123456789abcdef0123456789abcdef",
        "ja4Fingerprint": "t13d1516h2_8daaf6152771_02713d6af862",
    }
    return len(json.dumps(record, separators=(",", ":"))) + 1


def _entries(item: dict[str, Any]) -> dict[str, int | None]:
    return {name: index_entry(item, attributes) for name, attributes in INDEXES.items()}


def record_costs(pending: dict[str, Any], final: dict[str, Any]) -> dict[str, float]:
    """Write units of the PutItem (``pending``) and the UpdateItem (to ``final``), and the stored bytes."""
    put = units(item_size(pending)) + sum(units(e) for e in _entries(pending).values() if e)
    update = units(max(item_size(pending), item_size(final)))
    for name, attributes in INDEXES.items():
        before, after = (item_size(i, attributes) if _entries(i)[name] else None for i in (pending, final))
        if before != after or any(pending.get(a) != final.get(a) for a in attributes if before):
            update += units(max(_entries(pending)[name] or 0, _entries(final)[name] or 0))
    stored = item_size(final) + 100 + sum(e for e in _entries(final).values() if e)
    return {"put_units": put, "update_units": update, "stored_bytes": stored, "item_bytes": item_size(final)}


def _records(runtime: Any) -> list[dict[str, float]]:
    """Costs of each transaction whose INSERT and first MODIFY are on the table's stream."""
    streams = runtime.client("dynamodbstreams")
    arn = streams.list_streams(TableName=runtime.table("processed-transactions"))["Streams"][0]["StreamArn"]
    inserted: dict[str, dict[str, Any]] = {}
    costs = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            for record in page["Records"]:
                image = record["dynamodb"].get("NewImage", {})
                key = image.get("transaction_id", {}).get("S")
                if record["eventName"] == "INSERT":
                    inserted[key] = image
                elif record["eventName"] == "MODIFY" and key in inserted:
                    costs.append(record_costs(inserted.pop(key), image))
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return costs


def gzip_ratio(lines: list[str]) -> float:
    """CloudWatch's archive size of ``lines`` (gzip level 6, 26 bytes per event) over their size."""
    raw = "\n".join(lines).encode()
    return (len(gzip.compress(raw, compresslevel=6)) + 26 * len(lines)) / len(raw)


def run(transactions: int = 400) -> Section:
    settings = Settings()
    with local_runtime(LOCAL_LOG_LEVEL=FUNCTION_LOG_LEVEL) as runtime:
        merchant = runtime.put_merchant("Acme Stores", limit="1000000")
        before = processed_records(runtime)
        submission = submit(runtime, mixed_transactions([merchant] * transactions), CLIENTS)
        wait_processed(runtime, before + submission.accepted, 120)
        status = runtime.status()
        records = _records(runtime)
        lines = [line for line in runtime.log().splitlines() if line.startswith('{"level"')]
    accepted = submission.accepted
    written = status["log_bytes"]
    invocations = sum(f["invocations"] for f in status["functions"].values()) / accepted
    measured = {key: value / accepted for key, value in sorted(written.items())}
    computed = {
        "Lambda platform records (start + report)": platform_bytes_per_invocation() * invocations,
        "API access log line": access_log_bytes(),
        "API execution log (ERROR level, successful request)": 0,
        "WAF log record": waf_log_bytes(len(settings.waf_managed_rule_groups)),
    }
    rows = [(f"functions: {key}", "measured", round(v)) for key, v in measured.items()]
    rows += [(key, "computed", round(v)) for key, v in computed.items()]
    total = sum(measured.values()) + sum(computed.values())
    rows.append(("**total**", "", round(total)))
    ratio = gzip_ratio(lines)
    record = {key: statistics.mean(r[key] for r in records) for key in records[0]}
    rows += [
        (
            "CloudWatch archive: gzip(6) + 26 B/event over raw, function log lines",
            "measured",
            round(ratio, 3),
        ),
        ("transaction item, final (bytes)", "measured", round(record["item_bytes"])),
        ("stored: item + index entries + overheads (bytes)", "measured", round(record["stored_bytes"])),
        ("write units: PutItem (table + both indexes)", "measured", round(record["put_units"], 2)),
        (
            "write units: UpdateItem (table + pending index delete)",
            "measured",
            round(record["update_units"], 2),
        ),
    ]
    section = Section(
        title="Bytes per accepted transaction: logs and the stored record",
        header=("what", "how", "per transaction"),
        rows=rows,
        notes=[
            f"{accepted} accepted transactions of the benchmark mix (5% alerted) from {CLIENTS} clients; "
            f"the functions log at {FUNCTION_LOG_LEVEL}, as deployed; {invocations:.2f} invocations per "
            "transaction (validation once, fraud detection per batch).",
            "computed lines: from the stage's access-log format and the documented Lambda JSON platform "
            "and WAF log formats, with values of the sizes AWS writes (see bench/bench_log_bytes.py).",
            "VPC flow logs are per connection and minute, not per transaction (warm functions reuse their "
            "connections to the endpoints): not in this figure.",
            f"records: {len(records)} transactions' INSERT (the pending record, with its queue message for "
            "the reconciler's index) and first MODIFY (the verdict, the pending attributes removed) read "
            "from the table's stream; sizes and units by the documented rules (bench/item_size.py).",
        ],
    )
    section.data = {
        "log_bytes_per_tx": total,
        "log_archive_ratio": ratio,
        "record_bytes": record["stored_bytes"],
        "dynamodb_write_units": record["put_units"] + record["update_units"],
    }
    return section


if __name__ == "__main__":
    print_section(run(int(sys.argv[1]) if len(sys.argv) > 1 else 400))
