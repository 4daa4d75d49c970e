"""DynamoDB tables: merchant configuration and processed transactions."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTableGlobalSecondaryIndex,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
)
from constructs import Construct

from card_transactions.settings.system import MERCHANT_INDEX, PENDING_INDEX
from card_transactions.stacks.constructs.policy import Statement, allow


class EncryptedTable(Construct):
    """An on-demand DynamoDB table.

    Default settings: PAY_PER_REQUEST billing, point-in-time recovery, server-side encryption with the
    stack's customer-managed key, deletion protection (``DELETION_PROTECTION=false`` for throw-away
    environments). ``stream`` turns on the change stream with old and new images (``stream_arn``), an
    in-place update of an existing table.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        hash_key: str,
        kms_key_arn: str,
        deletion_protection: bool,
        merchant_index: bool = False,
        pending_index: bool = False,
        stream: bool = False,
    ) -> None:
        super().__init__(scope, id_)
        attributes = [DynamodbTableAttribute(name=hash_key, type="S")]
        indexes = []
        if merchant_index:
            attributes += [
                DynamodbTableAttribute(name="merchant_id", type="S"),
                DynamodbTableAttribute(name="received_epoch_ms", type="N"),
            ]
            indexes.append(
                DynamodbTableGlobalSecondaryIndex(
                    name=MERCHANT_INDEX,
                    hash_key="merchant_id",
                    range_key="received_epoch_ms",
                    projection_type="KEYS_ONLY",
                )
            )
        if pending_index:
            # Sparse: only pending records carry these attributes (handlers.domain.records), so the index
            # holds pending transactions only, with the message the reconciler re-sends.
            attributes += [
                DynamodbTableAttribute(name="pending_shard", type="N"),
                DynamodbTableAttribute(name="pending_since_ms", type="N"),
            ]
            indexes.append(
                DynamodbTableGlobalSecondaryIndex(
                    name=PENDING_INDEX,
                    hash_key="pending_shard",
                    range_key="pending_since_ms",
                    projection_type="INCLUDE",
                    non_key_attributes=["message"],
                )
            )
        self.table = DynamodbTable(
            self,
            "Table",
            name=name,
            billing_mode="PAY_PER_REQUEST",
            hash_key=hash_key,
            attribute=attributes,
            global_secondary_index=indexes or None,
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=kms_key_arn),
            deletion_protection_enabled=deletion_protection,
            stream_enabled=stream or None,
            stream_view_type="NEW_AND_OLD_IMAGES" if stream else None,
        )
        self.name = name
        self.arn = self.table.arn
        self.stream_arn = self.table.stream_arn

    def allow(self, sid: str, *actions: str, index: str | None = None) -> Statement:
        """``actions`` on this table (or on one of its indexes) and nothing else."""
        resource = f"{self.arn}/index/{index}" if index else self.arn
        return allow(sid, [f"dynamodb:{a}" for a in actions], [resource])
