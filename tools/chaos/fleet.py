"""The service replicas of a chaos run: kill, pause and restart them, and notice any that died on their own."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field

from tools.demo import processes
from tools.services import REPO_ROOT, RunningService, wait_ready

STACK_SH = REPO_ROOT / "deploy" / "local" / "stack.sh"


@dataclass
class Fleet:
    env: dict[str, str]
    running: dict[tuple[str, int], RunningService] = field(default_factory=dict)
    # Exits nobody asked for (a service that fell over on its own), by replica name.
    unplanned_exits: list[str] = field(default_factory=list)

    @classmethod
    def adopt(cls, env: dict[str, str], services: list[RunningService]) -> Fleet:
        fleet = cls(env)
        for service in services:
            name, _, number = service.name.partition("-")
            fleet.running[(name, int(number) - 1 if number else 0)] = service
        return fleet

    def kill(self, service: str, replica: int) -> None:
        running = self.running[(service, replica)]
        running.process.kill()
        running.process.wait()

    def restart(self, service: str, replica: int) -> None:
        started = processes.spawn_replica(service, replica, self.env)
        self.running[(service, replica)] = started
        wait_ready([started], timeout_s=120.0)

    def pause(self, service: str, replica: int, seconds: float) -> None:
        pid = self.running[(service, replica)].process.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(seconds)
        finally:
            os.kill(pid, signal.SIGCONT)

    def revive(self) -> list[str]:
        """Start again any replica that exited without being killed; their names."""
        revived = []
        for (service, replica), running in list(self.running.items()):
            if running.process.poll() is not None:
                self.unplanned_exits.append(running.name)
                revived.append(running.name)
                self.restart(service, replica)
        return revived

    def pids(self) -> dict[str, int]:
        return {running.name: running.process.pid for running in self.running.values()}


def stack(command: str, attempts: int = 3) -> None:
    """``deploy/local/stack.sh <command>``: kafka-down, kafka-kill, kafka-up, pg-crash, pg-up.

    A start is tried again, as an operator or an orchestrator would, before the run gives up.
    """
    for attempt in range(1, attempts + 1):
        done = subprocess.run(["/bin/bash", str(STACK_SH), command], capture_output=True, text=True, check=False)
        if done.returncode == 0:
            return
        if attempt == attempts or not command.endswith("-up"):
            tail = f"{done.stdout[-1500:]}{done.stderr[-1500:]}"
            raise RuntimeError(f"stack.sh {command} failed ({done.returncode}, attempt {attempt}): {tail}")
        time.sleep(3.0)
