"""The dispatcher: claims due sends per channel, renders them, calls the provider and records what happened.

One worker per channel, so a slow SMS gateway never holds up email. Each worker keeps up to
``max_in_flight`` provider calls going; a slow or retried send occupies one slot, not the batch.
Tokens come from the provider's shared bucket before rows are claimed, so the limit holds across
replicas. Outcomes are written by one recorder in small batches: the row moves on (sent, retrying
with its next due time, failed, suppressed), the status is put in the outbox, and a final failure
queues the next channel the offer allows.
"""

from __future__ import annotations

import asyncio
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
    # How far ahead a replica takes rate-limit tokens: rate × this many sends per claim at most.
    grant_horizon_s: float = 0.05
    # A send not under way this long after its token was granted takes a fresh token instead.
    stale_grant_s: float = 0.25
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
        # Per channel: the provider's sustained rate and burst, as its shared bucket has them.
        self._pacers = {channel: Pacer(rate, burst) for channel, (rate, burst) in (limits or {}).items()}
        # Tokens are taken for what can go out now, not for a whole batch: a replica holding many
        # granted-but-unsent sends would release them on top of another replica's share.
        # Claimed sends not yet past their pacer: the worker claims no more than a horizon's worth ahead,
        # so no token waits long enough to go stale (a stale token lapses, and the limit is undershot).
        self._unstarted = dict.fromkeys(self._providers, 0)
        self._grant_cap = {
            channel: max(1, math.ceil(rate * settings.grant_horizon_s)) for channel, (rate, _) in (limits or {}).items()
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
        provider = self._providers[channel]
        while not stop.is_set():
            free = self._free[channel]
            if free <= 0:
                self._slot_freed[channel].clear()
                await _wait_any(stop, self._slot_freed[channel], within_s=self._settings.poll_interval_s)
                continue
            ahead = self._grant_cap.get(channel, self._settings.claim_batch) - self._unstarted[channel]
            if ahead <= 0:
                await asyncio.sleep(self._settings.grant_horizon_s / 4)
                continue
            try:
                wanted = min(free, self._settings.claim_batch, ahead)
                claimed, wait_s = await self._claim(channel, provider.name, wanted)
            except Exception as exc:  # the database is away: nothing was claimed, try again shortly
                log.warning("claiming sends failed; retrying", channel=channel.value, error=repr(exc))
                await sleep_or_stop(stop, 1.0)
                continue
            if wait_s:
                notifier_metrics.RATE_LIMIT_WAITS.labels(channel=channel.value).inc()
                await sleep_or_stop(stop, min(wait_s, 1.0))
                continue
            if not claimed:
                self._wake.clear()
                await _wait_any(stop, self._wake, within_s=self._settings.poll_interval_s)
                continue
            self._free[channel] -= len(claimed)
            self._unstarted[channel] += len(claimed)
            granted_at = asyncio.get_running_loop().time()
            for send in claimed:
                task = asyncio.create_task(self._send(provider, send, granted_at))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)

    async def _claim(self, channel: Channel, bucket: str, wanted: int) -> tuple[list[ClaimedSend], float]:
        async with self._pool.acquire() as conn, conn.transaction():
            grant = await rate_buckets.take(conn, bucket, wanted)
            if not grant.tokens:
                return [], grant.wait_s
            claimed = await send_ledger.claim(conn, channel, grant.tokens, self._settings.lease_s)
            await rate_buckets.give_back(conn, bucket, grant.tokens - len(claimed))
        return claimed, 0.0

    # -- sending ----------------------------------------------------------------------------------

    async def _send(self, provider: Provider, send: ClaimedSend, granted_at: float) -> None:
        started = [False]
        try:
            outcome = await self._attempt(provider, send, granted_at, started)
        except Exception as exc:  # a bug, not the provider: record it as a failure rather than lose the slot
            log.exception("send crashed", offer_id=send.offer.offer_id, channel=send.channel.value)
            outcome = self._settle(send, Failure(FailureKind.PERMANENT, "internal_error", repr(exc)[:500]))
        finally:
            if not started[0]:
                self._unstarted[send.channel] -= 1
        await self._results.put(outcome)

    async def _attempt(self, provider: Provider, send: ClaimedSend, granted_at: float, started: list[bool]) -> Outcome:
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
        if asyncio.get_running_loop().time() - granted_at > self._settings.stale_grant_s:
            # Its token's moment has passed (the process was held up): sending on it now would add
            # to the sends other replicas make on fresh tokens. Let it lapse and take a fresh one.
            await self._fresh_token(provider.name)
        pacer = self._pacers.get(channel)
        if pacer is not None:
            await pacer.turn()
        started[0] = True
        self._unstarted[channel] -= 1
        began = time.perf_counter()
        result = await provider.send(message)
        notifier_metrics.PROVIDER_LATENCY.labels(channel=channel.value).observe(time.perf_counter() - began)
        return self._settle(send, result)

    async def _fresh_token(self, bucket: str) -> None:
        while True:
            async with self._pool.acquire() as conn:
                grant = await rate_buckets.take(conn, bucket, 1)
            if grant.tokens:
                return
            await asyncio.sleep(max(grant.wait_s, 0.001))

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


class Pacer:
    """Spaces one process's calls to a provider ``1 / rate`` apart on a steady schedule.

    The shared bucket decides how many sends may go; this decides when, so a batch of tokens
    granted at once does not reach the provider as one burst. The schedule keeps its own time:
    a call that wakes a little late does not push every later slot back (which would undershoot
    the limit), and after a longer hold-up (the event loop was busy with a batch) the calls it
    delayed catch up at once: up to 50 ms' worth, never more than half the bucket's burst, so what
    the shared bucket granted is sent and the provider still sees less than its burst.
    """

    def __init__(self, rate_per_s: float, burst: float) -> None:
        self._interval = 1.0 / rate_per_s
        self._slack = max(4 * self._interval, min(0.05, burst / 2 / rate_per_s))
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def turn(self) -> None:
        async with self._lock:
            now = asyncio.get_running_loop().time()
            slot = max(self._next, now - self._slack)
            self._next = slot + self._interval
            if slot > now:
                await asyncio.sleep(slot - now)


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
