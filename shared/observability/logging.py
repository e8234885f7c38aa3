"""JSON structured logs with the event id and member id carried in context."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import structlog


def configure(service: str, level: str = "INFO") -> None:
    """Route stdlib and structlog records to stdout as one JSON object per line."""
    shared_processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared_processors, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared_processors,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(ensure_ascii=False),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiokafka logs every reconnect attempt at WARNING/ERROR; keep its chatter out of INFO logs.
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
    # httpx logs every request at INFO: one JSON line per message sent, a real share of the
    # notifier's CPU at thousands of sends per second, and it names recipients' URLs. The
    # notifier reports sends through its metrics and statuses instead.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
    structlog.contextvars.bind_contextvars(service=service)


@contextmanager
def event_context(event_id: str | None = None, member_id: str | None = None) -> Iterator[None]:
    """Bind the event and member ids to every log line written inside the block."""
    with structlog.contextvars.bound_contextvars(event_id=event_id, member_id=member_id):
        yield


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)  # type: ignore[no-any-return]
