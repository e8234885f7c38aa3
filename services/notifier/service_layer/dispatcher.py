"""The dispatcher: claims due sends per channel, renders them, calls the provider and records what happened.

One worker per channel, so a slow SMS gateway never holds up email. Each worker claims a few
grants' worth of due sends, then takes tokens from the provider's shared bucket and starts that
many calls at once: tokens are taken only when the sends are ready, so no replica holds granted
sends that could later reach the provider on top of another replica's share, and the limit holds
across replicas. Up to ``max_in_flight`` calls run per channel; a slow or retried send occupies
one slot, not the batch. Outcomes are written by one recorder in small batches: the row moves on (sent, retrying
with its next due time, failed, suppressed), the status is put in the outbox, and a final failure
queues the next channel the offer allows.
"""

from __future__ import annotations

import asyncio
import collections
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from services.notifier.adapters import metrics as notifier_metrics
from services.notifier.adapters import rate_buckets, send_ledger
from services.notifier.adapters.providers.base import Provider
from services.notifier.adapters.send_ledger import ClaimedSend, NewSend, Outcome
from services.notifier.adapters.templates import RenderError, TemplateRenderer
from services.notifier.domain import unsubscribe
from services.notifier.domain.messages import Accepted, Failure, FailureKind
from services.notifier.domain.retry import RetryPolicy, next_retry_delay
from services.notifier.service_layer.statuses import status_record
from shared.contracts import Channel, DeliveryStatus, MessageType
from shared.observability.logging import get_logger
from shared.postgres import outbox
from shared.stopping import sleep_or_stop

log = get_logger(__name__)


@dataclass(frozen=True)
class DispatchSettings:
    claim_batch: int = 200
    max_in_flight: int = 256
    # Longer than a provider call can take: a send still 'sending' after it belonged to a replica that died.
    lease_s: float = 60.0
    poll_interval_s: float = 0.05
    flush_interval_s: float = 0.01
    # One rate-limit grant covers at most this much of the rate: the largest group a provider sees at once.
    grant_horizon_s: float = 0.02
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    unsubscribe_secret: bytes = b""
    public_base_url: str = "http://127.0.0.1:8084"


class Dispatcher:
    def __init__(
        self,
        pool: Any,
        providers: Mapping[Channel, Provider],
        renderer: TemplateRenderer,
        settings: DispatchSettings,
        *,
        limits: Mapping[Channel, tuple[float, float]] | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._pool = pool
        self._providers = dict(providers)
        self._renderer = renderer
        self._settings = settings
        self._rand = rand
        # None tells the recorder everything in flight has finished: write what is left and stop.
        self._results: asyncio.Queue[Outcome | None] = asyncio.Queue()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._free = {channel: settings.max_in_flight for channel in self._providers}
        self._slot_freed = {channel: asyncio.Event() for channel in self._providers}
        self._wake = asyncio.Event()
        # Tokens are taken when sends are ready to go and the sends start at once, so no replica holds
        # granted-but-unsent sends that would later reach the provider on top of another's share.
        # One grant is at most a horizon's worth of the rate: what the provider sees at once.
        self._grant_cap = {
            channel: max(1, math.ceil(rate * settings.grant_horizon_s)) for channel, (rate, _) in (limits or {}).items()
        }
        # Claimed sends waiting for tokens, per channel.
        self._ready: dict[Channel, collections.deque[ClaimedSend]] = {c: collections.deque() for c in self._providers}

    def wake(self) -> None:
        """New sends were queued: look now instead of at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        if not self._providers:  # nothing to send with: every offer is suppressed at intake
            await stop.wait()
            return
        workers = [asyncio.create_task(self._worker(channel, stop)) for channel in self._providers]
        recorder = asyncio.create_task(self._recorder())
        try:
            await asyncio.gather(*workers)
            # Stopping: let the calls under way finish and their outcomes be written, claim nothing new.
            await asyncio.gather(*self._in_flight, return_exceptions=True)
        finally:
            await self._results.put(None)
            await recorder

    # -- claiming ---------------------------------------------------------------------------------

    async def _worker(self, channel: Channel, stop: asyncio.Event) -> None:
        provider = self._providers[channel]
        ready = self._ready[channel]
        cap = self._grant_cap.get(channel, self._settings.claim_batch)
        while not stop.is_set():
            try:
                # Keep a few grants' worth of due sends at hand; a slot is held from claim to record.
                room = min(self._free[channel], 4 * cap - len(ready), self._settings.claim_batch)
                if room > 0:
                    claimed = await self._claim(channel, room)
                    self._free[channel] -= len(claimed)
                    ready.extend(claimed)
                if not ready:
                    self._wake.clear()
                    if self._free[channel] <= 0:
                        self._slot_freed[channel].clear()
                        await _wait_any(stop, self._slot_freed[channel], within_s=self._settings.poll_interval_s)
                    else:
                        await _wait_any(stop, self._wake, within_s=self._settings.poll_interval_s)
                    continue
                grant = await self._take(provider.name, min(len(ready), cap))
            except Exception as exc:  # the database is away: nothing was taken, try again shortly
                log.warning("claiming sends failed; retrying", channel=channel.value, error=repr(exc))
                await sleep_or_stop(stop, 1.0)
                continue
            if not grant.tokens:
                notifier_metrics.RATE_LIMIT_WAITS.labels(channel=channel.value).inc()
                await sleep_or_stop(stop, min(max(grant.wait_s, 0.001), 1.0))
                continue
            for _ in range(grant.tokens):
                task = asyncio.create_task(self._send(provider, ready.popleft()))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
        # Stopping: what was claimed but not started goes back to the queue when its lease runs out.

    async def _claim(self, channel: Channel, wanted: int) -> list[ClaimedSend]:
        async with self._pool.acquire() as conn, conn.transaction():
            return await send_ledger.claim(conn, channel, wanted, self._settings.lease_s)

    async def _take(self, bucket: str, wanted: int) -> rate_buckets.Grant:
        async with self._pool.acquire() as conn:
            return await rate_buckets.take(conn, bucket, wanted)

    # -- sending ----------------------------------------------------------------------------------

    async def _send(self, provider: Provider, send: ClaimedSend) -> None:
        try:
            outcome = await self._attempt(provider, send)
        except Exception as exc:  # a bug, not the provider: record it as a failure rather than lose the slot
            log.exception("send crashed", offer_id=send.offer.offer_id, channel=send.channel.value)
            outcome = self._settle(send, Failure(FailureKind.PERMANENT, "internal_error", repr(exc)[:500]))
        await self._results.put(outcome)

    async def _attempt(self, provider: Provider, send: ClaimedSend) -> Outcome:
        offer, channel = send.offer, send.channel
        now = datetime.now(UTC)
        if send.resumed:
            notifier_metrics.RESUMED.labels(channel=channel.value).inc()
        if offer.message_type is MessageType.MARKETING and send.opted_out:
            return _suppressed(send, "no_consent")
        if offer.expired_at(now):
            return _suppressed(send, "offer_expired")
        address = send.contact.address(channel) if send.contact is not None else None
        if not address:
            return self._settle(send, Failure(FailureKind.PERMANENT, "no_contact_point", "no address for channel"))
        unsubscribe_url = self._unsubscribe_url(offer.member_id, channel, offer.offer_id, offer.message_type)
        if channel is Channel.EMAIL and offer.message_type is MessageType.MARKETING and unsubscribe_url is None:
            # Marketing email needs a working List-Unsubscribe link; without the secret there is none.
            failure = Failure(FailureKind.PERMANENT, "unsubscribe_not_configured", "MP_NOTIFIER_UNSUBSCRIBE_SECRET")
            return self._settle(send, failure)
        try:
            message = self._renderer.render(
                offer,
                channel,
                to=address,
                locale=send.contact.locale if send.contact is not None else None,
                unsubscribe_url=unsubscribe_url,
                time_zone=send.contact.time_zone if send.contact is not None else None,
            )
        except RenderError as exc:
            return self._settle(send, Failure(FailureKind.PERMANENT, exc.code, str(exc)[:500]))
        notifier_metrics.QUEUE_WAIT.labels(channel=channel.value).observe(
            max(0.0, (now - send.was_due).total_seconds())
        )
        began = time.perf_counter()
        result = await provider.send(message)
        notifier_metrics.PROVIDER_LATENCY.labels(channel=channel.value).observe(time.perf_counter() - began)
        return self._settle(send, result)

    def _settle(self, send: ClaimedSend, result: Accepted | Failure) -> Outcome:
        if isinstance(result, Accepted):
            return _outcome(send, "sent", provider_message_id=result.provider_message_id)
        notifier_metrics.PROVIDER_ERRORS.labels(
            channel=send.channel.value, kind=result.kind.value, code=result.code
        ).inc()
        delay = next_retry_delay(self._settings.retry, send.attempts, result, self._rand)
        if delay is None:
            return _outcome(send, "failed", error_code=result.code, error_message=result.message)
        due = datetime.now(UTC) + timedelta(seconds=delay)
        return _outcome(send, "retrying", due_at=due, error_code=result.code, error_message=result.message)

    def _unsubscribe_url(self, member_id: str, channel: Channel, offer_id: str, kind: MessageType) -> str | None:
        if kind is not MessageType.MARKETING or not self._settings.unsubscribe_secret:
            return None
        claim = unsubscribe.UnsubscribeClaim(member_id=member_id, channel=channel, offer_id=offer_id)
        token = unsubscribe.issue(self._settings.unsubscribe_secret, claim)
        return f"{self._settings.public_base_url.rstrip('/')}/v1/unsubscribe/{token}"

    # -- recording --------------------------------------------------------------------------------

    async def _recorder(self) -> None:
        finished = False
        while not finished:
            first = await self._results.get()
            if first is not None and self._settings.flush_interval_s:
                await asyncio.sleep(self._settings.flush_interval_s)
            batch = [] if first is None else [first]
            finished = first is None
            while not self._results.empty():
                item = self._results.get_nowait()
                if item is None:
                    finished = True
                else:
                    batch.append(item)
            if batch:
                await self._record_until_done(batch)

    async def _record_until_done(self, batch: list[Outcome]) -> None:
        delay = 0.5
        while True:
            try:
                await self._record(batch)
                break
            except Exception as exc:  # outcomes stay in memory and their slots stay taken until written
                log.warning("recording send outcomes failed; retrying", sends=len(batch), error=repr(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        for outcome in batch:
            self._free[outcome.channel] += 1
            self._slot_freed[outcome.channel].set()

    async def _record(self, batch: list[Outcome]) -> None:
        now = datetime.now(UTC)
        async with self._pool.acquire() as conn, conn.transaction():
            finished = await send_ledger.record(conn, batch)
            records = []
            fallbacks = []
            for outcome in finished:
                offer = outcome.offer
                if offer is None:  # every outcome the dispatcher makes carries its offer
                    raise AssertionError(f"outcome of {outcome.offer_id} lacks its offer")
                notifier_metrics.SENDS.labels(channel=outcome.channel.value, status=outcome.status).inc()
                if outcome.status == "retrying":
                    notifier_metrics.RETRIES.labels(channel=outcome.channel.value).inc()
                    continue
                records.append(
                    status_record(
                        offer.member_id,
                        offer.offer_id,
                        outcome.channel,
                        DeliveryStatus(outcome.status),
                        now,
                        attempt=outcome.attempts,
                        provider_message_id=outcome.provider_message_id,
                        error_code=outcome.error_code,
                        error_message=outcome.error_message,
                    )
                )
                if outcome.status == "failed" and outcome.fallbacks:
                    following, *rest = outcome.fallbacks
                    fallbacks.append(NewSend(offer, following, tuple(rest), DeliveryStatus.QUEUED.value, now))
            for new in await send_ledger.insert(conn, fallbacks):
                records.append(
                    status_record(new.offer.member_id, new.offer.offer_id, new.channel, DeliveryStatus.QUEUED, now)
                )
            await outbox.append(conn, records)
        if fallbacks:
            self.wake()


def _outcome(send: ClaimedSend, status: str, **fields: Any) -> Outcome:
    return Outcome(
        send.offer.offer_id,
        send.channel,
        send.attempts,
        status=status,
        offer=send.offer,
        fallbacks=send.fallbacks,
        **fields,
    )


def _suppressed(send: ClaimedSend, reason: str) -> Outcome:
    return _outcome(send, "suppressed", error_code=reason)


async def _wait_any(stop: asyncio.Event, event: asyncio.Event, *, within_s: float) -> None:
    waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(event.wait())]
    try:
        await asyncio.wait(waiters, timeout=within_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
