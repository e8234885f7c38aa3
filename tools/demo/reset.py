"""A clean slate for a run: the services' tables emptied and their consumer groups moved past old records.

The demo's figures are read from the services' own tables, so a run must start from empty ones
to report only itself; records of earlier runs stay in the topics, unread.
"""

from __future__ import annotations

import asyncpg

from services.campaigns.entrypoints.topology import CONSUMES as CAMPAIGNS_CONSUMES
from services.ingest.entrypoints.topology import CONSUMES as INGEST_CONSUMES
from services.notifier.entrypoints.topology import CONSUMES as NOTIFIER_CONSUMES
from services.scoring.entrypoints.topology import CONSUMES as SCORING_CONSUMES
from shared.contracts.topics import TopicSpec
from shared.kafka.admin import move_group_to_end
from shared.postgres.service_schema import empty_tables
from shared.settings import Settings

# Each service's consumer group is named after it.
INPUTS: dict[str, tuple[TopicSpec, ...]] = {
    "ingest": INGEST_CONSUMES,
    "scoring": SCORING_CONSUMES,
    "campaigns": CAMPAIGNS_CONSUMES,
    "notifier": NOTIFIER_CONSUMES,
}


async def reset(settings: Settings) -> dict[str, int]:
    """Empty every service's tables (its own role) and move its group to the end; tables emptied per service."""
    emptied = {}
    for service, topics in INPUTS.items():
        conn = await asyncpg.connect(settings.pg.dsn_for(service))
        try:
            emptied[service] = len(await empty_tables(conn, service))
        finally:
            await conn.close()
        await move_group_to_end(settings.kafka.bootstrap_servers, service, [t.name for t in topics])
    return emptied
