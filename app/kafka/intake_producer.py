"""The producer of the HTTP intake: librdkafka's, each event awaited until Kafka acknowledged it.

A POST is answered 202 only once its event is on every in-sync replica, so the
per-request cost of producing is the API's largest. aiokafka's producer (Faust's
own, which the intake used before) spends about 415 µs of Python per request at
300 requests/s; librdkafka batches, retries and tracks acknowledgements in its
own C threads, which took the API worker's CPU per request down by an eighth
(-12.6 % at 300 requests/s: docs/benchmarks.md, "The intake on librdkafka").

What a 202 promises does not change with the client:

- ``acks=all`` and idempotence: a retried batch is written once, in order;
- Java's partitioner (``murmur2_random``), which aiokafka's and Faust's default
  partitioner also is: a user's events land on the partition its tables and
  agents expect, whichever client wrote them;
- a record not acknowledged when its request gives up (``PRODUCE_TIMEOUT_S``)
  stays queued, and librdkafka keeps trying for :data:`DELIVERY_TIMEOUT_MS`:
  the 503 says the request may still be applied (web/intake.py).

Delivery reports arrive on a thread of ours polling librdkafka; each poll hands
the reports it served to the event loop at once, so the loop wakes once per
poll, not once per record.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from functools import partial
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from mode import Service

from app.settings import Settings

log = logging.getLogger(__name__)

#: Largest record batch per partition, of this producer and of Faust's (app/application.py).
BATCH_BYTES = 256 * 1024
#: How long a record may stay queued before librdkafka gives it up (its default).
DELIVERY_TIMEOUT_MS = 300_000
#: Most the queue may hold, in KiB, where librdkafka's default is 1 GiB: records wait in it
#: only for a batch or an answer (a few ms), or while Kafka is away, when the circuit breaker
#: stops new ones within seconds (web/circuit.py). Past it a send fails at once: a 503.
QUEUE_KIB = 16 * 1024
#: How long one poll waits for delivery reports: the polling thread's idle tick.
POLL_S = 0.1
#: How long stopping waits for queued records (each already answered 503, or a 202 in flight).
FLUSH_S = 10.0


class DeliveryFailed(Exception):
    """Kafka did not take the record: librdkafka's error, by name."""


def producer_config(settings: Settings) -> dict[str, Any]:
    """librdkafka's configuration of the intake's producer."""
    return {
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        "client.id": f"{settings.group_id}-intake",
        "acks": "all",
        "enable.idempotence": True,
        "partitioner": "murmur2_random",
        "linger.ms": settings.producer_linger_ms,
        "batch.size": BATCH_BYTES,
        "delivery.timeout.ms": DELIVERY_TIMEOUT_MS,
        "queue.buffering.max.kbytes": QUEUE_KIB,
        "request.timeout.ms": int(settings.producer_request_timeout_s * 1000),
    }


class IntakeProducer(Service):
    """Sends the intake's events through librdkafka; :meth:`send` returns once acknowledged.

    A producer that fails for good (a fatal error: the idempotent producer lost
    track of its sequence) is replaced by a new one; the records it held fail,
    and their requests get their 503.
    """

    def __init__(self, settings: Settings, flush_s: float = FLUSH_S, **kwargs: Any) -> None:
        self._config = producer_config(settings)
        self._flush_s = flush_s
        #: The producer sends go to; None before the start and once stopping has begun.
        self._producer: Producer | None = None
        #: Held while the producer is swapped (replaced, or taken away to stop).
        self._swap = threading.Lock()
        self._failed_for_good = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        #: Delivery reports served by the polling thread, not yet handed to their requests.
        self._reports: deque[Report] = deque()
        self._polling = threading.Event()
        self._poller: threading.Thread | None = None
        super().__init__(**kwargs)

    async def on_start(self) -> None:
        """Make the producer and start polling its delivery reports."""
        self._loop = asyncio.get_running_loop()
        self._producer = self._make()
        self._polling.set()
        self._poller = threading.Thread(
            target=self._poll, args=(self._loop,), name="intake-producer", daemon=True
        )
        self._poller.start()

    async def on_stop(self) -> None:
        """Refuse new records, deliver those queued (within ``flush_s``), then stop polling."""
        with self._swap:
            producer, self._producer = self._producer, None
        if producer is not None:
            left = await asyncio.to_thread(producer.flush, self._flush_s)
            if left:
                log.warning("intake producer stopped with %d records undelivered", left)
        self._polling.clear()
        if self._poller is not None:
            await asyncio.to_thread(self._poller.join)
        self._settle()

    async def send(self, topic: str, value: bytes, key: bytes) -> None:
        """Produce one record and wait for its acknowledgement.

        Raises :class:`DeliveryFailed` when Kafka refused it, librdkafka's
        queue is full, or the producer is not running (the record is then
        not queued at all).
        """
        producer = self._producer
        if producer is None or self._loop is None:
            raise DeliveryFailed("the intake producer is not running")
        delivered: asyncio.Future[None] = self._loop.create_future()
        try:
            producer.produce(topic, value, key, on_delivery=partial(self._report, delivered))
        except (BufferError, KafkaException) as exc:  # queue full, or an unknown topic
            raise DeliveryFailed(str(exc)) from exc
        await delivered

    def report_error(self, error: KafkaError) -> None:
        """librdkafka's error callback: log it; replace the producer if it failed for good."""
        if error.fatal():
            log.error("intake producer failed for good (%s): replacing it", error.str())
            self._failed_for_good.set()
        else:
            log.warning("intake producer: %s", error.str())

    def _make(self) -> Producer:
        return Producer(self._config, logger=log, error_cb=self.report_error)

    def _report(
        self, delivered: asyncio.Future[None], error: KafkaError | None, _: Message
    ) -> None:
        # On the polling thread: only queue the report (a deque is safe across threads).
        self._reports.append((delivered, error))

    def _poll(self, loop: asyncio.AbstractEventLoop) -> None:
        while self._polling.is_set():
            producer = self._producer
            if producer is None:
                return  # stopping: the flush serves the last reports
            if self._failed_for_good.is_set():
                self._replace(producer)
            served = producer.poll(POLL_S)
            if (served or self._reports) and not loop.is_closed():
                loop.call_soon_threadsafe(self._settle)

    def _replace(self, failed: Producer) -> None:
        """Send to a new producer from now on; serve the failed one's last reports (errors)."""
        self._failed_for_good.clear()
        with self._swap:
            if self._producer is not failed:  # stopping meanwhile
                return
            self._producer = self._make()
        # Its records fail (librdkafka has failed them, or the purge does); serving their
        # reports hands each request its error, and so its 503.
        failed.purge()
        failed.flush(self._flush_s)

    def _settle(self) -> None:
        settle_reports(self._reports)


#: A delivery report: the request's future, and librdkafka's error (None: delivered).
Report = tuple[asyncio.Future[None], KafkaError | None]


def settle_reports(reports: deque[Report]) -> None:
    """Hand each queued report to the request awaiting it, on the event loop.

    A request that gave up meanwhile (timed out or cancelled) is skipped.
    """
    while reports:
        delivered, error = reports.popleft()
        if delivered.done():
            continue
        if error is None:
            delivered.set_result(None)
        else:
            delivered.set_exception(DeliveryFailed(error.str()))
