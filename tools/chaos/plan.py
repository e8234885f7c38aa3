"""The faults of one chaos run, drawn from a seed so that a failing run can be replayed fault for fault."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

from shared.settings import SERVICE_NAMES


class FaultKind(StrEnum):
    KILL = "kill"  # SIGKILL one replica of a service, start it again
    PAUSE = "pause"  # SIGSTOP one replica for longer than the session timeout (a rebalance), then SIGCONT
    KAFKA_RESTART = "kafka_restart"  # a clean broker stop and start
    KAFKA_KILL = "kafka_kill"  # SIGKILL the broker, start it again
    POSTGRES_CRASH = "postgres_crash"  # pg_ctl stop -m immediate (a crash to Postgres), start it again


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    # Seconds after the fault's share of the history is published: services are mid-batch by then.
    after_s: float
    # How long the part stays down (or paused) before it comes back.
    down_s: float
    service: str | None = None
    replica: int = 0

    def describe(self) -> str:
        target = f" {self.service}#{self.replica + 1}" if self.service else ""
        return f"{self.kind.value}{target} after {self.after_s:.1f} s, down {self.down_s:.1f} s"


@dataclass(frozen=True)
class Dose:
    """How much of each fault a run gets."""

    kills: int = 20
    pauses: int = 2
    kafka_restarts: int = 1
    kafka_kills: int = 1
    postgres_crashes: int = 1

    def __post_init__(self) -> None:
        if min(self.kills, self.pauses, self.kafka_restarts, self.kafka_kills, self.postgres_crashes) < 0:
            raise ValueError("fault counts cannot be negative")


def draw(seed: int, dose: Dose, *, replicas: int, pause_s: float) -> list[Fault]:
    """The faults in the order they strike. Kills go round the services, so each is killed several times."""
    rng = random.Random(f"chaos:{seed}")  # noqa: S311 - a replayable schedule, not security
    services = list(SERVICE_NAMES)
    rng.shuffle(services)
    faults = [
        Fault(FaultKind.KILL, _after(rng), rng.uniform(0.0, 2.0), services[n % len(services)], rng.randrange(replicas))
        for n in range(dose.kills)
    ]
    faults += [
        Fault(FaultKind.PAUSE, _after(rng), pause_s, rng.choice(services), rng.randrange(replicas))
        for _ in range(dose.pauses)
    ]
    faults += [Fault(FaultKind.KAFKA_RESTART, _after(rng), rng.uniform(1.0, 3.0)) for _ in range(dose.kafka_restarts)]
    faults += [Fault(FaultKind.KAFKA_KILL, _after(rng), rng.uniform(1.0, 3.0)) for _ in range(dose.kafka_kills)]
    faults += [
        Fault(FaultKind.POSTGRES_CRASH, _after(rng), rng.uniform(1.0, 3.0)) for _ in range(dose.postgres_crashes)
    ]
    rng.shuffle(faults)
    return faults


def _after(rng: random.Random) -> float:
    return round(rng.uniform(0.2, 3.0), 2)


def tally(faults: list[Fault]) -> Counter[str]:
    """Faults by kind, and kills by service: what the closing figures quote."""
    counts: Counter[str] = Counter(f.kind.value for f in faults)
    counts.update(f"kill:{f.service}" for f in faults if f.kind is FaultKind.KILL)
    return counts
