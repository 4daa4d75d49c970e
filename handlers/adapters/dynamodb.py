"""DynamoDB adapters (low-level client + TypeSerializer: lighter than boto3 resources at cold start)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from card_transactions.handlers.adapters.aws import dependency_error, is_condition_failure
from card_transactions.handlers.domain.errors import DependencyError
from card_transactions.handlers.domain.ports import ConditionFailed, StalePending
from card_transactions.handlers.domain.records import RECONCILE_FIELDS, ProcessingStatus, TransactionRecord
from card_transactions.settings.system import MERCHANT_INDEX, PENDING_INDEX

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
PENDING = ProcessingStatus.PENDING_FRAUD_CHECK.value
BATCH_GET_KEYS = 100  # BatchGetItem's limit
BATCH_GET_ATTEMPTS = 3
# The record may still be scored by this payload: absent, or pending for the same payload hash.
SCORABLE = "attribute_not_exists(transaction_id) OR (#status = :pending AND payload_hash = :hash)"


def query_pages(
    client: Any, what: str, request: Mapping[str, Any], limit: int, counted: Callable[[dict[str, Any]], int]
) -> Iterator[dict[str, Any]]:
    """The pages of one Query until ``limit`` results (as ``counted`` counts a page) or the last page; each
    page asks only for what is still missing."""
    start_key = None
    while limit > 0:
        page_request = {**request, "Limit": limit}
        if start_key:
            page_request["ExclusiveStartKey"] = start_key
        try:
            page: dict[str, Any] = client.query(**page_request)
        except (ClientError, BotoCoreError) as exc:
            raise dependency_error(what, exc) from exc
        yield page
        limit -= counted(page)
        start_key = page.get("LastEvaluatedKey")
        if not start_key:
            return


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Plain values as DynamoDB attribute values (an item, or expression attribute values)."""
    return {k: _serializer.serialize(v) for k, v in values.items()}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def _record(operation: str, item: Mapping[str, Any]) -> TransactionRecord:
    try:
        return TransactionRecord.from_attributes(from_item(item))
    except ValueError as exc:
        raise DependencyError(operation, "MalformedRecord", str(exc)) from exc


class ApiKeyTable:
    """api-keys-{env}: read only (GetItem); written by ``python -m tools.clients``."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, key_id: str) -> dict[str, Any] | None:
        try:
            response = self._client.get_item(TableName=self._table, Key={"key_id": {"S": key_id}})
        except (ClientError, BotoCoreError) as exc:
            raise dependency_error("API key GetItem", exc) from exc
        item = response.get("Item")
        return from_item(item) if item else None


class MerchantTable:
    """merchant-config-{env}: read only (GetItem, BatchGetItem)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, merchant_id: str) -> dict[str, Any] | None:
        try:
            response = self._client.get_item(TableName=self._table, Key={"merchant_id": {"S": merchant_id}})
        except (ClientError, BotoCoreError) as exc:
            raise dependency_error("merchant GetItem", exc) from exc
        item = response.get("Item")
        return from_item(item) if item else None

    def get_many(self, merchant_ids: list[str]) -> dict[str, dict[str, Any]]:
        """BatchGetItem, 100 keys a request, unprocessed keys retried; DependencyError if any remain."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(merchant_ids), BATCH_GET_KEYS):
            keys = [{"merchant_id": {"S": m}} for m in merchant_ids[start : start + BATCH_GET_KEYS]]
            for _ in range(BATCH_GET_ATTEMPTS):
                try:
                    response = self._client.batch_get_item(RequestItems={self._table: {"Keys": keys}})
                except (ClientError, BotoCoreError) as exc:
                    raise dependency_error("merchant BatchGetItem", exc) from exc
                for item in response.get("Responses", {}).get(self._table, []):
                    merchant = from_item(item)
                    found[str(merchant["merchant_id"])] = merchant
                keys = response.get("UnprocessedKeys", {}).get(self._table, {}).get("Keys", [])
                if not keys:
                    break
            else:
                raise DependencyError("merchant BatchGetItem", "UnprocessedKeys", f"{len(keys)} keys left")
        return found


class TransactionTable:
    """processed-transactions-{env}: every write is conditional so no path stores a transaction twice."""

    def __init__(self, client: Any, table_name: str, index_name: str = MERCHANT_INDEX) -> None:
        self._client = client
        self._table = table_name
        self._index = index_name

    def _conditional_write(self, operation: str, call: Any, **request: Any) -> ClientError | None:
        """Run one conditional write. Returns the error when only its condition failed; any other
        failure (after the client's retries) raises DependencyError."""
        try:
            call(TableName=self._table, **request)
        except ClientError as exc:
            if is_condition_failure(exc):
                return exc
            raise dependency_error(f"transaction {operation}", exc) from exc
        except BotoCoreError as exc:
            raise dependency_error(f"transaction {operation}", exc) from exc
        return None

    @staticmethod
    def _condition_failed(operation: str, exc: ClientError) -> ConditionFailed:
        item = exc.response.get("Item")
        return ConditionFailed(operation, _record(f"transaction {operation}", item) if item else None)

    def put_pending(self, item: Mapping[str, Any]) -> None:
        failure = self._conditional_write(
            "PutItem",
            self._client.put_item,
            Item=to_item(item),
            ConditionExpression="attribute_not_exists(transaction_id)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        if failure is not None:
            raise self._condition_failed("PutItem", failure)

    def get(self, transaction_id: str, *, consistent: bool = True) -> TransactionRecord | None:
        try:
            response = self._client.get_item(
                TableName=self._table,
                Key={"transaction_id": {"S": transaction_id}},
                ConsistentRead=consistent,
            )
        except (ClientError, BotoCoreError) as exc:
            raise dependency_error("transaction GetItem", exc) from exc
        item = response.get("Item")
        return _record("transaction GetItem", item) if item else None

    def _update(
        self,
        *,
        operation: str,
        transaction_id: str,
        set_values: Mapping[str, Any],
        condition: str,
        condition_values: Mapping[str, Any],
        if_absent: Mapping[str, Any] | None = None,
        remove: Sequence[str] = (),
    ) -> None:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        clauses: list[str] = []
        for index, (name, value) in enumerate(set_values.items()):
            names[f"#s{index}"] = name
            values[f":s{index}"] = value
            clauses.append(f"#s{index} = :s{index}")
        for index, (name, value) in enumerate((if_absent or {}).items()):
            names[f"#a{index}"] = name
            values[f":a{index}"] = value
            clauses.append(f"#a{index} = if_not_exists(#a{index}, :a{index})")
        for index, name in enumerate(remove):
            names[f"#r{index}"] = name
        names["#status"] = "status"
        values.update(condition_values)
        expression = "SET " + ", ".join(clauses)
        if remove:
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove)))
        failure = self._conditional_write(
            operation,
            self._client.update_item,
            Key={"transaction_id": {"S": transaction_id}},
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_item(values),
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        if failure is not None:
            raise self._condition_failed(operation, failure)

    def finalize(self, fields: Mapping[str, Any], payload_hash: str) -> None:
        """The final status; the record leaves the sparse pending index (its attributes are removed), and
        the ``failure_reason`` of an earlier dead-lettering goes with them."""
        set_values = {k: v for k, v in fields.items() if k != "transaction_id"}
        self._update(
            operation="UpdateItem(finalize)",
            transaction_id=fields["transaction_id"],
            set_values=set_values,
            condition=SCORABLE,
            condition_values={":pending": PENDING, ":hash": payload_hash},
            remove=(*RECONCILE_FIELDS, "failure_reason"),
        )

    def mark_retries_exhausted(
        self, transaction_id: str, payload_hash: str, fields: Mapping[str, Any], if_absent: Mapping[str, Any]
    ) -> None:
        """Still pending (the same condition as ``finalize``, so the record can be scored later)."""
        self._update(
            operation="UpdateItem(retries exhausted)",
            transaction_id=transaction_id,
            set_values=fields,
            condition=SCORABLE,
            condition_values={":pending": PENDING, ":hash": payload_hash},
            if_absent=if_absent,
        )

    def mark_failed(
        self, transaction_id: str, fields: Mapping[str, Any], if_absent: Mapping[str, Any]
    ) -> None:
        self._update(
            operation="UpdateItem(failed)",
            transaction_id=transaction_id,
            set_values=fields,
            condition="attribute_not_exists(transaction_id) OR #status = :pending",
            condition_values={":pending": PENDING},
            if_absent=if_absent,
            remove=RECONCILE_FIELDS,
        )

    def count_recent(self, merchant_id: str, from_ms: int, to_ms: int, limit: int) -> int:
        """Query Select=COUNT on the KEYS_ONLY merchant index; stops as soon as `limit` is reached."""
        if to_ms < from_ms:
            return 0
        count = 0
        request = {
            "TableName": self._table,
            "IndexName": self._index,
            "Select": "COUNT",
            "KeyConditionExpression": "merchant_id = :m AND received_epoch_ms BETWEEN :from AND :to",
            "ExpressionAttributeValues": to_item({":m": merchant_id, ":from": from_ms, ":to": to_ms}),
        }
        what = f"transaction Query({self._index})"
        for page in query_pages(self._client, what, request, limit, lambda page: int(page.get("Count", 0))):
            count += int(page.get("Count", 0))
        return count


class PendingTransactions:
    """The sparse pending index of processed-transactions-{env} (Query per shard, conditional touch)."""

    def __init__(self, client: Any, table_name: str, index_name: str = PENDING_INDEX) -> None:
        self._client = client
        self._table = table_name
        self._index = index_name

    def stale(self, shard: int, pending_before_ms: int, limit: int) -> list[StalePending]:
        entries: list[StalePending] = []
        request = {
            "TableName": self._table,
            "IndexName": self._index,
            "KeyConditionExpression": "pending_shard = :shard AND pending_since_ms <= :before",
            "ExpressionAttributeValues": to_item({":shard": shard, ":before": pending_before_ms}),
        }
        what = f"transaction Query({self._index})"
        pages = query_pages(self._client, what, request, limit, lambda page: len(page.get("Items", [])))
        for page in pages:
            for raw in page.get("Items", []):
                item = from_item(raw)
                message = item.get("message")
                entries.append(
                    StalePending(
                        str(item["transaction_id"]),
                        int(item["pending_since_ms"]),
                        message if isinstance(message, str) else None,
                    )
                )
        return entries

    def touch(self, transaction_id: str, seen_since_ms: int, now_ms: int) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"transaction_id": {"S": transaction_id}},
                # the change the enqueue rule passes (still pending, with a message, no failure_reason): the
                # stream queues the message again; no longer dead-lettered (a later dead-lettering is new)
                UpdateExpression="SET pending_since_ms = :now REMOVE failure_reason",
                ConditionExpression="#status = :pending AND pending_since_ms = :seen",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_item(
                    {":now": now_ms, ":pending": PENDING, ":seen": seen_since_ms}
                ),
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise dependency_error("transaction UpdateItem(touch)", exc) from exc
        except BotoCoreError as exc:
            raise dependency_error("transaction UpdateItem(touch)", exc) from exc
        return True
