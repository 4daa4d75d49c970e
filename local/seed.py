"""Sample merchants written at start-up (``LOCAL_SEED=false`` skips them)."""

from __future__ import annotations

from typing import Any

# merchant_001 is the README's "Test Merchant": its 1500 USD example scores 40 (the name contains
# "test") and ends REVIEW_REQUIRED.
SAMPLE_MERCHANTS: tuple[dict[str, Any], ...] = (
    {
        "merchant_id": "merchant_001",
        "name": "Test Merchant",
        "active": True,
        "max_transaction_amount": "10000",
    },
    {"merchant_id": "merchant_002", "name": "Acme Stores", "active": True, "max_transaction_amount": "10000"},
    {
        "merchant_id": "merchant_003",
        "name": "Globex Travel",
        "active": True,
        "max_transaction_amount": "50000",
    },
    {
        "merchant_id": "merchant_004",
        "name": "Initech Outlet",
        "active": False,
        "max_transaction_amount": "5000",
    },
)


def as_item(merchant: dict[str, Any]) -> dict[str, Any]:
    return {
        "merchant_id": {"S": merchant["merchant_id"]},
        "name": {"S": merchant["name"]},
        "active": {"BOOL": merchant["active"]},
        "max_transaction_amount": {"N": merchant["max_transaction_amount"]},
    }


def seed_merchants(dynamodb: Any, table_name: str) -> list[dict[str, Any]]:
    for merchant in SAMPLE_MERCHANTS:
        dynamodb.put_item(TableName=table_name, Item=as_item(merchant))
    return list(SAMPLE_MERCHANTS)
