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
from services.notifier.domain.messages import Accepted, Failure, FailureKind, RenderedMessage
from services.notifier.domain.retry import RetryPolicy, next_retry_delay
from services.notifier.service_layer.statuses import status_record
from shared.contracts import Channel, DeliveryStatus, MessageType
from shared.observability.logging import get_logger
from shared.postgres import outbox
from shared.stopping import sleep_or_stop

log = get_logger(__name__)

# Sends rendered between two chances for the grant loop to run: about 5 ms of CPU.
_RENDER_CHUNK = 8


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
        self._rate = {channel: rate for channel, (rate, _) in (limits or {}).items()}
        # Rendered sends kept at hand: enough to spend a full bucket when the grant loop comes back late.
        self._keep = {
            channel: max(4 * self._grant_cap.get(channel, 0), math.ceil(burst), 1)
            for channel, (_, burst) in (limits or {}).items()
        }
        for channel in self._providers:
            self._keep.setdefault(channel, settings.claim_batch)
        self._ready_grew = {channel: asyncio.Event() for channel in self._providers}
        self._ready_taken = {channel: asyncio.Event() for channel in self._providers}
        # Claimed sends waiting for tokens, per channel.
        self._ready: dict[Channel, collections.deque[tuple[ClaimedSend, RenderedMessage]]] = {
            c: collections.deque() for c in self._providers
        }

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
        # Two loops per channel: one keeps rendered sends at hand, the other only takes tokens and
        # starts calls. Claiming and rendering a grant's worth takes tens of ms; done in the same loop
        # as the grants, it left the bucket full and its tokens unspent (0.93-0.97 of a 1,000/s limit).
        await asyncio.gather(self._fill(channel, stop), self._grant(channel, stop))

    async def _fill(self, channel: Channel, stop: asyncio.Event) -> None:
        """Keep a full bucket's worth of due sends claimed and rendered; a slot is held from claim to record."""
        ready = self._ready[channel]
        keep = self._keep[channel]
        while not stop.is_set():
            try:
                room = min(self._free[channel], keep - len(ready), self._settings.claim_batch)
                claimed = await self._claim(channel, room) if room > 0 else []
            except Exception as exc:  # the database is away: nothing was claimed, try again shortly
                log.warning("claiming sends failed; retrying", channel=channel.value, error=repr(exc))
                await sleep_or_stop(stop, 1.0)
                continue
            self._free[channel] -= len(claimed)
            for done, send in enumerate(claimed, start=1):
                # Rendered before tokens are taken: a granted call then goes out at once, and a send
                # that will not reach the provider never uses up a token.
                prepared = self._prepare(send)
                if isinstance(prepared, Outcome):
                    self._results.put_nowait(prepared)
                else:
                    ready.append(prepared)
                    self._ready_grew[channel].set()
                if done % _RENDER_CHUNK == 0:
                    await asyncio.sleep(0)  # let the grant loop in between renders
            if claimed:
                continue
            if len(ready) >= keep:
                self._ready_taken[channel].clear()
                await _wait_any(stop, self._ready_taken[channel], within_s=self._settings.poll_interval_s)
            elif self._free[channel] <= 0:
                self._slot_freed[channel].clear()
                await _wait_any(stop, self._slot_freed[channel], within_s=self._settings.poll_interval_s)
            else:
                self._wake.clear()
                await _wait_any(stop, self._wake, within_s=self._settings.poll_interval_s)

    async def _grant(self, channel: Channel, stop: asyncio.Event) -> None:
        """Take tokens for the rendered sends at hand and start that many calls."""
        provider = self._providers[channel]
        ready = self._ready[channel]
        cap = self._grant_cap.get(channel, self._settings.claim_batch)
        rate = self._rate.get(channel)
        last_take = time.monotonic()
        while not stop.is_set():
            if not ready:
                self._ready_grew[channel].clear()
                await _wait_any(stop, self._ready_grew[channel], within_s=self._settings.poll_interval_s)
                continue
            # A busy event loop can come back later than one horizon: the bucket kept filling
            # meanwhile, so take what the time since the last grant is worth, or the rate is missed.
            now = time.monotonic()
            due = cap if rate is None else max(cap, math.ceil(rate * (now - last_take)))
            last_take = now
            try:
                grant = await self._take(provider.name, min(len(ready), due))
            except Exception as exc:  # the database is away: nothing was taken, try again shortly
                log.warning("taking rate-limit tokens failed; retrying", channel=channel.value, error=repr(exc))
                await sleep_or_stop(stop, 1.0)
                continue
            if not grant.tokens:
                notifier_metrics.RATE_LIMIT_WAITS.labels(channel=channel.value).inc()
                await sleep_or_stop(stop, min(max(grant.wait_s, 0.001), 1.0))
                continue
            for _ in range(grant.tokens):
                task = asyncio.create_task(self._send(provider, *ready.popleft()))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
            self._ready_taken[channel].set()
        # Stopping: what was claimed but not started goes back to the queue when its lease runs out.

    async def _claim(self, channel: Channel, wanted: int) -> list[ClaimedSend]:
        async with self._pool.acquire() as conn, conn.transaction():
            return await send_ledger.claim(conn, channel, wanted, self._settings.lease_s)

    async def _take(self, bucket: str, wanted: int) -> rate_buckets.Grant:
        async with self._pool.acquire() as conn:
            return await rate_buckets.take(conn, bucket, wanted)

    # -- sending ----------------------------------------------------------------------------------

    def _prepare(self, send: ClaimedSend) -> tuple[ClaimedSend, RenderedMessage] | Outcome:
        """The message to send, or the outcome of a send that must not reach the provider."""
        try:
            return self._render(send)
        except Exception as exc:  # a bug, not the message: record it as a failure rather than lose the slot
            log.exception("preparing a send crashed", offer_id=send.offer.offer_id, channel=send.channel.value)
            return self._settle(send, Failure(FailureKind.PERMANENT, "internal_error", repr(exc)[:500]))

    def _render(self, send: ClaimedSend) -> tuple[ClaimedSend, RenderedMessage] | Outcome:
        offer, channel = send.offer, send.channel
        if send.resumed:
            notifier_metrics.RESUMED.labels(channel=channel.value).inc()
        if offer.message_type is MessageType.MARKETING and send.opted_out:
            return _suppressed(send, "no_consent")
        if offer.expired_at(datetime.now(UTC)):
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
        return send, message

    async def _send(self, provider: Provider, send: ClaimedSend, message: RenderedMessage) -> None:
        channel = send.channel
        notifier_metrics.QUEUE_WAIT.labels(channel=channel.value).observe(
            max(0.0, (datetime.now(UTC) - send.was_due).total_seconds())
        )
        try:
            began = time.perf_counter()
            result = await provider.send(message)
            notifier_metrics.PROVIDER_LATENCY.labels(channel=channel.value).observe(time.perf_counter() - began)
            outcome = self._settle(send, result)
        except Exception as exc:  # a bug, not the provider: record it as a failure rather than lose the slot
            log.exception("send crashed", offer_id=send.offer.offer_id, channel=channel.value)
            outcome = self._settle(send, Failure(FailureKind.PERMANENT, "internal_error", repr(exc)[:500]))
        await self._results.put(outcome)

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
