"""Lambda's SQS event source mapping, emulated: poll, batch, invoke, delete or retry.

For each mapping of the stack: receive up to ``batch_size`` messages (waiting up to the batching window to
fill the batch), invoke the function with an SQS event, delete the records that succeeded, and make the
failed ones visible again after ``retry_visibility_seconds`` (the local stand-in for the queue's
visibility timeout, which the deployed queue waits in full; a short one keeps retries quick). With
``ReportBatchItemFailures`` only the listed records fail; a function error, or a response naming an
unknown record, fails the whole batch. SQS itself moves a message to the dead-letter queue once it was
received ``maxReceiveCount`` times. Like Lambda's mapping, it works on more batches at once while messages
are waiting (up to the mapping's maximum concurrency and ``LOCAL_CONCURRENCY``), and on one when they are
not.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from local.events import sqs_event
from local.functions import LocalFunction
from local.stack import MappingSpec

POLL_WAIT_SECONDS = 1  # short long-poll, so that shutdown is quick


class Poller:
    def __init__(
        self,
        mapping: MappingSpec,
        function: LocalFunction,
        sqs: Any,
        *,
        queue_url: str,
        queue_arn: str,
        queue_name: str,
        region: str,
        retry_visibility_seconds: int,
        stop: threading.Event,
        concurrency: int = 1,
    ) -> None:
        self.mapping = mapping
        self.function = function
        self.queue_name = queue_name
        self._sqs = sqs
        self._url = queue_url
        self._arn = queue_arn
        self._region = region
        self._retry = retry_visibility_seconds
        self._stop = stop
        self._threads = [
            threading.Thread(target=self._run, args=(i,), name=f"poller-{function.name}-{i}", daemon=True)
            for i in range(max(1, concurrency))
        ]
        self._active = 1  # pollers at work: more while batches come back full, down to one when idle
        self._lock = threading.Lock()
        # One ReceiveMessage at a time: moto's SQS is not thread-safe there (two receives racing over the
        # same message raise in moto and leave messages in flight for the queue's full visibility
        # timeout). Batches are still processed concurrently; only the short receive call is serial.
        self._receiving = threading.Lock()
        self.batches = 0
        self.succeeded = 0
        self.failed = 0

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def join(self, timeout: float) -> None:
        for thread in self._threads:
            thread.join(timeout)

    def _scale(self, backlog: bool) -> None:
        """Like Lambda's event source mapping: one more concurrent batch while messages are waiting (a
        poll came back full at once), one fewer when they are not."""
        with self._lock:
            if backlog:
                self._active = min(len(self._threads), self._active + 1)
            else:
                self._active = max(1, self._active - 1)

    def _run(self, index: int) -> None:
        while not self._stop.is_set():
            if index >= self._active:
                self._stop.wait(0.1)
                continue
            try:
                messages = self._receive_batch()
                if messages:
                    self._deliver(messages)
            except Exception as exc:  # keep polling, like the managed poller
                if self._stop.is_set():
                    return
                print(
                    f"[poller] {self.function.name}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True
                )
                self._stop.wait(1)

    def _receive(self, count: int, wait: int) -> list[dict[str, Any]]:
        with self._receiving:
            return self._sqs.receive_message(
                QueueUrl=self._url,
                MaxNumberOfMessages=max(1, min(10, count)),
                WaitTimeSeconds=wait,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])

    def _receive_batch(self) -> list[dict[str, Any]]:
        batch_size = self.mapping.batch_size
        messages = self._receive(batch_size, POLL_WAIT_SECONDS)
        self._scale(backlog=len(messages) >= min(10, batch_size))
        if not messages:
            return []
        deadline = time.monotonic() + self.mapping.batching_window_seconds
        while len(messages) < batch_size and not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            messages += self._receive(
                batch_size - len(messages), min(POLL_WAIT_SECONDS, max(1, int(remaining)))
            )
        return messages

    def _deliver(self, messages: Sequence[dict[str, Any]]) -> None:
        event = sqs_event(messages, self._arn, self._region)
        ids = {m["MessageId"] for m in messages}
        try:
            failed = self._failed_ids(self.function.invoke(event), ids)
        except Exception as exc:
            print(
                f"[poller] {self.function.name} failed a batch of {len(messages)}: "
                f"{type(exc).__name__}: {exc}",
                file=sys.stderr,
                flush=True,
            )
            failed = ids
        with self._lock:
            self.batches += 1
            self.failed += len(failed)
            self.succeeded += len(ids) - len(failed)
        done = [m for m in messages if m["MessageId"] not in failed]
        retry = [m for m in messages if m["MessageId"] in failed]
        for chunk in _chunks(done):
            self._sqs.delete_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        for chunk in _chunks(retry):
            self._sqs.change_message_visibility_batch(
                QueueUrl=self._url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": self._retry}
                    for i, m in enumerate(chunk)
                ],
            )

    def _failed_ids(self, response: Any, ids: set[str]) -> set[str]:
        """Lambda's reading of a partial batch response: the failed ids; anything malformed fails the whole
        batch."""
        if not self.mapping.report_batch_item_failures or not isinstance(response, dict):
            return set()
        failures = response.get("batchItemFailures")
        if failures is None:
            return set()
        if not isinstance(failures, list):
            return set(ids)
        failed = set()
        for item in failures:
            identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
            if not isinstance(identifier, str) or identifier not in ids:
                return set(ids)
            failed.add(identifier)
        return failed


def _chunks(items: Sequence[Any], size: int = 10) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
