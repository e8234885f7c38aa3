"""Runs one service process: pool, migrations, consumers, outbox relay and the HTTP server.

A service describes itself with a ``ServiceDefinition`` (its name, migrations folder, and a
function that builds its consumers); ``run_service`` wires the plumbing around it, stops
cleanly on SIGTERM/SIGINT (the batch in flight finishes, nothing is half-applied) and exits
non-zero if any part dies, so a supervisor restarts it.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import uvicorn
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from shared.contracts.topics import TopicSpec
from shared.kafka.consumer import BatchConsumer, Handler
from shared.kafka.decoders import cloudevents_by_topic
from shared.kafka.producer import idempotent_producer
from shared.kafka.records import Decoder, UnitOfWork
from shared.kafka.relay import OutboxRelay
from shared.observability import heap
from shared.observability.http import ops_app
from shared.observability.logging import configure, get_logger
from shared.postgres.pool import create_pool
from shared.postgres.provision import migrate_service
from shared.settings import Settings

log = get_logger(__name__)


@dataclass
class ServiceContext:
    """What a service's wiring gets to build its consumers and routes with."""

    name: str
    settings: Settings
    pool: asyncpg.Pool
    producer: AIOKafkaProducer
    app: FastAPI
    consumers: list[BatchConsumer[Any]] = field(default_factory=list)
    # Long-running jobs beside the consumers (sweepers, refreshers): run until the stop event is set.
    background: list[tuple[str, Callable[[asyncio.Event], Coroutine[Any, Any, None]]]] = field(default_factory=list)


@dataclass(frozen=True)
class ServiceDefinition:
    name: str
    migrations: Path
    build_consumers: Callable[[ServiceContext], Sequence[BatchConsumer[Any]]]
    # Extra routes or background tasks; called once the context exists.
    extend: Callable[[ServiceContext], None] | None = field(default=None)
    # Work that must finish before the first record is consumed (e.g. loading definitions).
    prepare: Callable[[ServiceContext], Awaitable[None]] | None = field(default=None)


async def run_service(definition: ServiceDefinition, settings: Settings | None = None) -> int:
    settings = settings or Settings()
    configure(definition.name, settings.log_level)
    name = definition.name
    dsn = settings.pg.dsn_for(name)
    applied = await migrate_service(dsn, name, definition.migrations)
    if applied:
        log.info("migrations applied", migrations=applied)
    pool = await create_pool(dsn, min_size=settings.pg.pool_min_size, max_size=settings.pg.pool_max_size)
    producer = idempotent_producer(settings.kafka, name)
    await producer.start()
    stop = asyncio.Event()
    relay = OutboxRelay(
        service=name, dsn=dsn, pool=pool, producer=producer, settings=settings.outbox, kafka=settings.kafka
    )

    async def database_ready() -> bool:
        async with pool.acquire() as conn:
            return bool(await conn.fetchval("SELECT 1"))

    consumers: list[BatchConsumer[Any]] = []

    async def consumers_ready() -> bool:
        return all(consumer.running for consumer in consumers)

    app = ops_app(name, {"postgres": database_ready, "kafka_consumers": consumers_ready})
    context = ServiceContext(name=name, settings=settings, pool=pool, producer=producer, app=app, consumers=consumers)
    consumers.extend(definition.build_consumers(context))
    if definition.extend is not None:
        definition.extend(context)
    if definition.prepare is not None:
        await definition.prepare(context)
    heap.watch_collections()
    heap.freeze_startup_heap()
    heap.relax_full_collections()
    for consumer in consumers:
        await consumer.start()

    server = uvicorn.Server(
        uvicorn.Config(app, host=settings.http.host, port=settings.http.port_for(name), log_config=None, lifespan="off")
    )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    workers = [
        asyncio.create_task(relay.run(stop), name="outbox-relay"),
        *(asyncio.create_task(c.run(stop), name=f"consumer-{c.group_id}") for c in consumers),
        *(asyncio.create_task(job(stop), name=job_name) for job_name, job in context.background),
    ]
    http_task = asyncio.create_task(server.serve(), name="http")
    log.info("service started", http_port=settings.http.port_for(name), topics=[c.topics for c in consumers])
    stop_task = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([stop_task, http_task, *workers], return_when=asyncio.FIRST_COMPLETED)
    exit_code = 0
    # A part that returns in the same moment the stop was asked for has simply stopped; only one
    # that ends on its own, before any stop, is a failure.
    asked_to_stop = stop.is_set()
    for task in done:
        if task is stop_task:
            continue
        if task.exception() is not None:
            failure = task.exception()
            log.error("service part failed", part=task.get_name(), error=repr(failure), exc_info=failure)
            exit_code = 1
        elif not asked_to_stop:
            log.error("service part stopped unexpectedly", part=task.get_name())
            exit_code = 1
    stop.set()
    # Consumers finish the batch in flight, then leave the group; nothing is half-applied.
    await asyncio.gather(*workers, return_exceptions=True)
    for consumer in consumers:
        await consumer.stop()
    server.should_exit = True
    await asyncio.gather(http_task, return_exceptions=True)
    await producer.stop()
    await pool.close()
    log.info("service stopped", exit_code=exit_code)
    return exit_code


def batch_consumer(
    ctx: ServiceContext,
    *,
    consumes: Sequence[TopicSpec],
    decoder: Decoder[Any],
    handler: Handler[Any],
    dlq: TopicSpec,
    co_partitioned: bool = False,
    event_time_order: bool = False,
    feedback: Sequence[TopicSpec] = (),
    aligned_batch_records: int | None = None,
    marks_to: Sequence[TopicSpec] = (),
    on_progress: Callable[[UnitOfWork], Awaitable[None]] | None = None,
) -> BatchConsumer[Any]:
    """The usual consumer: the service's own group over ``consumes``, dead letters to ``dlq``.

    ``co_partitioned`` keeps partition p of every consumed topic on one consumer, and
    ``event_time_order`` reads the partitions in step by event time, all but the ``feedback``
    topics', and hands on up to ``aligned_batch_records`` at once (see BatchConsumer). With
    ``marks_to``, it writes progress marks for its input partitions to those topics (progress.py);
    ``on_progress`` hears when its input is complete further with nothing to apply (BatchConsumer).
    """
    return BatchConsumer(
        service=ctx.name,
        topics=[spec.name for spec in consumes],
        group_id=ctx.name,
        decoder=decoder,
        handler=handler,
        pool=ctx.pool,
        settings=ctx.settings.kafka,
        dlq_topic=dlq.name,
        co_partitioned=co_partitioned,
        event_time_order=event_time_order,
        feedback_topics=[spec.name for spec in feedback],
        marked_topics=[spec.name for spec in consumes if spec.progress_marked],
        aligned_batch_records=aligned_batch_records,
        marks_to={spec.name: spec.partitions for spec in marks_to},
        on_progress=on_progress,
    )


def single_consumer_service(
    name: str,
    migrations: Path,
    *,
    consumes: Sequence[TopicSpec],
    dlq: TopicSpec,
    handler: Callable[[ServiceContext], Handler[Any]],
    decoder: Callable[[ServiceContext], Decoder[Any]] | None = None,
    extend: Callable[[ServiceContext], None] | None = None,
    prepare: Callable[[ServiceContext], Awaitable[None]] | None = None,
    event_time_order: bool = False,
    aligned_batch_records: int | None = None,
    marks_to: Sequence[TopicSpec] = (),
) -> ServiceDefinition:
    """A service with one consumer group over ``consumes``; CloudEvents decoding unless told otherwise."""

    def build_consumers(ctx: ServiceContext) -> list[BatchConsumer[Any]]:
        chosen = decoder(ctx) if decoder is not None else cloudevents_by_topic(consumes)
        consumer = batch_consumer(
            ctx,
            consumes=consumes,
            decoder=chosen,
            handler=handler(ctx),
            dlq=dlq,
            event_time_order=event_time_order,
            aligned_batch_records=aligned_batch_records,
            marks_to=marks_to,
        )
        return [consumer]

    return ServiceDefinition(
        name=name, migrations=migrations, build_consumers=build_consumers, extend=extend, prepare=prepare
    )


def main(definition: ServiceDefinition) -> None:
    """Entry point of ``python -m services.<name>``."""
    sys.exit(asyncio.run(run_service(definition)))
