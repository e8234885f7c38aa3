"""A seeded retail-chain simulator: a year of a chain's members in every upstream format.

``simulate(ChainSpec(...))`` gives stores, a catalog, contacts, the planted truth per person and
every upstream record (chat from the app, WeChat and WeCom; till receipts, CSV exports and web
orders), routed as the chain would send them: the first months as backfill files, the rest live
over Kafka and, for the web shop, ingest's signed webhook. ``python -m tools.simulate`` writes it
all to a folder. Used by ``make demo``, the e2e tests and the benchmarks.
"""

from tools.simulate.model import ChainSpec, Route, SimRecord
from tools.simulate.simulation import Simulation, iter_live, simulate

__all__ = ["ChainSpec", "Route", "SimRecord", "Simulation", "iter_live", "simulate"]
