"""The processes the demo leaves running: the four services and the provider sinks.

Each runs in its own session, so it outlives the demo and a Ctrl-C of it, and leaves a pid file
in ``.stack/demo/``. ``stop_all`` (called by ``make down``) stops what those files name.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shared.settings import DEFAULT_HTTP_PORTS, SERVICE_NAMES
from tools.demo.config import LOG_DIR, SINK_PORT, SMTP_PORT, STATE_DIR
from tools.services import REPO_ROOT, RunningService, service_pids, wait_ready


@dataclass(frozen=True)
class Sinks:
    url: str
    smtp_port: int
    smtp_ca_file: Path


def spawn(name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    log = (LOG_DIR / f"{name}.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, *argv],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    (STATE_DIR / f"{name}.pid").write_text(str(process.pid))
    return process


def start_sinks() -> Sinks:
    """The HTTP provider sink (SMS gateway, WeChat API, app webhook) and the SMTP sink, in one process."""
    ready = STATE_DIR / "sinks.json"
    ready.unlink(missing_ok=True)
    argv = ["-m", "tools.provider_sinks", "--port", str(SINK_PORT), "--smtp-port", str(SMTP_PORT)]
    process = spawn("sinks", [*argv, "--cert-dir", str(STATE_DIR)], {})
    deadline = time.monotonic() + 20
    log = LOG_DIR / "sinks.log"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the provider sinks exited: {log.read_text(errors='replace')[-2000:]}")
        for line in reversed(log.read_text(errors="replace").splitlines()):
            if line.startswith("{") and '"smtp_port"' in line:
                where = json.loads(line)
                return Sinks(where["url"], int(where["smtp_port"]), Path(where["smtp_ca_file"]))
        time.sleep(0.1)
    raise TimeoutError("the provider sinks did not start within 20 s")


def replica_name(service: str, index: int) -> str:
    """``ingest`` for the first replica, ``ingest-2`` for the second: its pid file and log."""
    return service if index == 0 else f"{service}-{index + 1}"


def replica_port(service: str, index: int) -> int:
    """The service's usual port for the first replica, 100 more for each next one."""
    return DEFAULT_HTTP_PORTS[service] + 100 * index


def spawn_replica(service: str, index: int, env: dict[str, str]) -> RunningService:
    name, port = replica_name(service, index), replica_port(service, index)
    process = spawn(name, ["-m", f"services.{service}"], {**env, "MP_HTTP_PORT": str(port)})
    return RunningService(name, port, process, LOG_DIR / f"{name}.log")


def start_services(
    env: dict[str, str], replicas: int = 1, names: Sequence[str] = SERVICE_NAMES
) -> list[RunningService]:
    """The ``names`` services, ``replicas`` processes each (one consumer group per service), ready to work."""
    services = [spawn_replica(name, index, env) for index in range(replicas) for name in names]
    wait_ready(services, timeout_s=120.0)
    return services


def running_elsewhere() -> dict[str, list[int]]:
    """Service processes not started by the demo (a dev run, a benchmark): they would share the groups."""
    ours = {int(p.read_text()) for p in STATE_DIR.glob("*.pid") if p.read_text().strip().isdigit()}
    found = {name: [pid for pid in service_pids(f"services.{name}") if pid not in ours] for name in SERVICE_NAMES}
    return {name: pids for name, pids in found.items() if pids}


def stop_all(timeout_s: float = 30.0) -> list[str]:
    """SIGTERM every process a pid file names (each finishes its batch), SIGKILL what hangs."""
    stopped = []
    pidfiles = sorted(STATE_DIR.glob("*.pid")) if STATE_DIR.exists() else []
    for pidfile in pidfiles:
        pid = int(pidfile.read_text().strip() or 0)
        if pid and _alive(pid) and _is_demo_process(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            stopped.append(pidfile.stem)
        else:
            pidfile.unlink()
    deadline = time.monotonic() + timeout_s
    for pidfile in [p for p in pidfiles if p.exists()]:
        pid = int(pidfile.read_text().strip() or 0)
        while pid and _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid and _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        pidfile.unlink(missing_ok=True)
    return stopped


def _is_demo_process(pid: int) -> bool:
    """The pid still names a service or sink process (not a process that reused the number)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(arg.startswith((b"services.", b"tools.provider_sinks")) for arg in argv)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (our own child, not yet reaped) counts as gone.
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    return False
