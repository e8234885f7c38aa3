"""The policy in force, shared by the consumer, the sweeper and the API of one process."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from services.scoring.adapters import metrics, model_repository
from services.scoring.domain.policy import Policy
from shared.observability.logging import get_logger

log = get_logger(__name__)


@dataclass
class PolicyHolder:
    """Replaced whole when a new model or cut-point version appears; loaded before first use."""

    current: Policy = field(default_factory=Policy)
    loaded: bool = False

    async def reload(self, conn: Any) -> None:
        model = await model_repository.latest_model(conn)
        cuts = await model_repository.latest_cuts(conn)
        self.loaded = True
        if model != self.current.model or cuts != self.current.rfm_cuts:
            self.current = replace(self.current, model=model, rfm_cuts=cuts)
            metrics.MODEL_VERSION.set(model.version)
            log.info("policy loaded", model_version=model.version, rfm_cuts_version=cuts.version if cuts else None)

    async def ready(self, conn: Any) -> Policy:
        """The policy, loaded from the database first if this process has not yet done so."""
        if not self.loaded:
            await self.reload(conn)
        return self.current
