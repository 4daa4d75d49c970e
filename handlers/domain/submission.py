"""POST /transaction and GET /transaction/{id}: validate, authorise against the merchant, record.

A submission is one conditional PutItem of the pending record, which carries the transaction's message:
the table's change stream puts every committed one on the transactions queue (the enqueue rule), and the
reconciler re-drives a record whose message got lost downstream. So the 202 is answered once the write
commits, and nothing is left to undo when a later step fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from card_transactions.handlers.domain.api_keys import ApiKeyDirectory
from card_transactions.handlers.domain.cache import TTLCache
from card_transactions.handlers.domain.card_numbers import refuse_card_numbers
from card_transactions.handlers.domain.errors import (
    AmountExceedsMerchantLimit,
    DependencyError,
    IdempotencyConflict,
    MerchantAccessDenied,
    MerchantInactive,
    MerchantNotFound,
    ServiceUnavailable,
    TransactionNotFound,
    ValidationFailed,
)
from card_transactions.handlers.domain.merchant import REFUSED_MERCHANT, REFUSED_MESSAGE, Merchant
from card_transactions.handlers.domain.merchant_directory import MerchantDirectory
from card_transactions.handlers.domain.ports import ConditionFailed, MerchantSource, TransactionStore
from card_transactions.handlers.domain.records import (
    TransactionMessage,
    TransactionRecord,
    epoch_ms,
    iso_utc,
    public_view,
)
from card_transactions.handlers.domain.transaction import ID_PATTERN, Transaction, validate_transaction


class SubmissionOutcome(StrEnum):
    """How an accepted submission came about."""

    ACCEPTED = "ACCEPTED"  # new: recorded (pending), so queued by the table's stream
    REPLAYED = "REPLAYED"  # the same payload again, pending or scored: the first one's answer

    @property
    def is_new(self) -> bool:
        """The transaction entered the pipeline with this request (not a replay)."""
        return self is SubmissionOutcome.ACCEPTED


@dataclass(frozen=True)
class Submission:
    """An accepted transaction: the client is told it is queued for the fraud check."""

    transaction_id: str
    outcome: SubmissionOutcome


class TransactionService:
    def __init__(
        self,
        merchants: MerchantSource,
        store: TransactionStore,
        merchant_cache: TTLCache[Merchant | None],
        clock: Callable[[], datetime],
        *,
        keys: ApiKeyDirectory | None = None,
        binding_required: bool = False,
    ) -> None:
        self._keys = keys
        self._binding_required = binding_required
        self._merchants = MerchantDirectory(merchants, merchant_cache)
        self._store = store
        self._clock = clock

    def client_of_key(self, key_id: str | None) -> str | None:
        """The API client of the calling key (None: no key, or a key no client owns)."""
        if key_id is None or self._keys is None:
            return None
        try:
            return self._keys.client_of(key_id)
        except DependencyError as exc:
            raise ServiceUnavailable("API key directory unavailable, retry") from exc

    # --- POST --------------------------------------------------------------------------------------

    def submit(self, payload: Any, client: str | None = None) -> Submission:
        """Accept ``payload`` from ``client`` (the calling API key's client; None: no known client)."""
        transaction = validate_transaction(payload)
        try:
            merchant = self._merchant(transaction.merchant_id)
            if not merchant.permits(client, binding_required=self._binding_required):
                raise MerchantAccessDenied(
                    "This API client may not submit for this merchant",
                    [{"field": "merchant_id", "message": "not a merchant of the calling API client"}],
                )
            merchant.authorise(transaction.amount)
        except (MerchantNotFound, MerchantInactive, AmountExceedsMerchantLimit):
            # Rare path: the merchant changed since this exact payload was accepted: answer that 202 again.
            replay = self._replay_after_rejection(transaction)
            if replay is None:
                raise
            return replay
        now = self._clock()
        message = TransactionMessage(
            transaction=transaction,
            payload_hash=transaction.payload_hash(),
            received_at=iso_utc(now),
            received_epoch_ms=epoch_ms(now),
        )
        try:
            self._store.put_pending(message.pending_record())
        except ConditionFailed as exc:
            return self._replay(exc.existing or self._existing(transaction.transaction_id), message)
        except DependencyError as exc:
            raise ServiceUnavailable("Transaction store unavailable, retry") from exc
        return Submission(transaction.transaction_id, SubmissionOutcome.ACCEPTED)

    def _merchant(self, merchant_id: str) -> Merchant:
        try:
            merchant = self._merchants.get(merchant_id)
        except DependencyError as exc:
            raise ServiceUnavailable("Merchant configuration unavailable, retry") from exc
        if merchant is None:
            raise MerchantNotFound(REFUSED_MESSAGE, [REFUSED_MERCHANT])
        return merchant

    def _existing(self, transaction_id: str) -> TransactionRecord:
        """The record a refused PutItem ran into, when the refusal did not return it."""
        try:
            existing = self._store.get(transaction_id, consistent=True)
        except DependencyError as exc:
            raise ServiceUnavailable("Transaction store unavailable, retry") from exc
        if existing is None:  # deleted by hand in between: the client's retry starts afresh
            raise ServiceUnavailable("Transaction is being processed, retry")
        return existing

    def _replay(self, existing: TransactionRecord, message: TransactionMessage) -> Submission:
        """The same id again: the first request's answer for the same payload, pending or scored (a
        pending one's message is on its way, or the reconciler re-drives it); 409 for another payload."""
        if existing.payload_hash != message.payload_hash:
            raise IdempotencyConflict(
                "transaction_id was already used with a different payload",
                [{"field": "transaction_id", "message": "already used with a different payload"}],
            )
        return Submission(message.transaction.transaction_id, SubmissionOutcome.REPLAYED)

    def _replay_after_rejection(self, transaction: Transaction) -> Submission | None:
        """A merchant check failed: if this exact payload was accepted before, answer its 202 again."""
        try:
            existing = self._store.get(transaction.transaction_id, consistent=True)
        except DependencyError:
            return None
        if existing is not None and existing.payload_hash == transaction.payload_hash():
            return Submission(transaction.transaction_id, SubmissionOutcome.REPLAYED)
        return None

    # --- GET ---------------------------------------------------------------------------------------

    def status(self, transaction_id: Any, client: str | None = None) -> dict[str, Any]:
        """The public view of a transaction; 404 as well when its merchant does not admit ``client``."""
        refuse_card_numbers(transaction_id, "transaction_id")
        if not isinstance(transaction_id, str) or not ID_PATTERN.fullmatch(transaction_id):
            raise ValidationFailed(
                "Invalid transaction id",
                [{"field": "transaction_id", "message": "must be 1-64 characters of [A-Za-z0-9_-]"}],
            )
        try:
            record = self._store.get(transaction_id, consistent=True)
        except DependencyError as exc:
            raise ServiceUnavailable("Transaction store unavailable, retry") from exc
        if record is None or not self._may_read(record, client):
            raise TransactionNotFound("Transaction not found")
        return public_view(record)

    def _may_read(self, record: TransactionRecord, client: str | None) -> bool:
        """Through the merchant cache: no extra read in steady state."""
        merchant_id = record.merchant_id
        if merchant_id is None:
            return not self._binding_required
        try:
            merchant = self._merchants.get(merchant_id)
        except DependencyError as exc:
            raise ServiceUnavailable("Merchant configuration unavailable, retry") from exc
        if merchant is None:  # the merchant was removed since: only unbound deployments still show it
            return not self._binding_required
        return merchant.permits(client, binding_required=self._binding_required)
