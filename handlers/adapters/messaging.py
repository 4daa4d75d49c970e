"""SQS adapter."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from card_transactions.handlers.adapters.aws import dependency_error


class TransactionQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def send(self, body: str) -> str:
        try:
            response = self._client.send_message(QueueUrl=self._url, MessageBody=body)
        except (ClientError, BotoCoreError) as exc:
            raise dependency_error("SendMessage", exc) from exc
        return str(response.get("MessageId", ""))

    def change_visibility(self, receipt_handle: str, seconds: int) -> None:
        try:
            self._client.change_message_visibility(
                QueueUrl=self._url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
            )
        except (ClientError, BotoCoreError) as exc:
            raise dependency_error("ChangeMessageVisibility", exc) from exc
