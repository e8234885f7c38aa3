"""Run the four services as real processes, wait until each answers /readyz, stop them cleanly."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from shared.settings import DEFAULT_HTTP_PORTS, SERVICE_NAMES

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class RunningService:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_services(
    log_dir: Path,
    env: dict[str, str] | None = None,
    port_offset: int = 0,
    ready_timeout_s: float = 90.0,
    names: tuple[str, ...] = SERVICE_NAMES,
) -> list[RunningService]:
    """Start the services (``python -m services.<name>``) and wait until all are ready."""
    running = [spawn_service(name, log_dir, env, DEFAULT_HTTP_PORTS[name] + port_offset) for name in names]
    try:
        wait_ready(running, ready_timeout_s)
    except BaseException:
        stop_services(running)
        raise
    return running


def spawn_service(name: str, log_dir: Path, env: dict[str, str] | None, port: int) -> RunningService:
    """Start one service process without waiting; its output is appended to ``<log_dir>/<name>.log``."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", f"services.{name}"],
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {}), "MP_HTTP_PORT": str(port)},
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
    )
    return RunningService(name, port, process, log_path)


def wait_ready(services: list[RunningService], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    pending = list(services)
    while pending and time.monotonic() < deadline:
        for service in list(pending):
            if service.process.poll() is not None:
                tail = service.log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{service.name} exited with {service.process.returncode}:\n{tail}")
            try:
                if httpx.get(f"{service.base_url}/readyz", timeout=1.0).status_code == 200:
                    pending.remove(service)
            except httpx.HTTPError:
                pass
        time.sleep(0.3)
    if pending:
        raise TimeoutError(f"not ready after {timeout_s:.0f}s: {[s.name for s in pending]}")


def stop_services(services: list[RunningService], timeout_s: float = 30.0) -> dict[str, int]:
    """SIGTERM each service (it finishes its batch in flight), SIGKILL only if it hangs."""
    for service in services:
        if service.process.poll() is None:
            service.process.send_signal(signal.SIGTERM)
    codes = {}
    for service in services:
        try:
            codes[service.name] = service.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            service.process.kill()
            codes[service.name] = service.process.wait()
    return codes


def service_pids(module: str) -> list[int]:
    """Pids of running ``python -m <module>`` processes on this host."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if module.encode() in (entry / "cmdline").read_bytes().split(b"\0"):
                pids.append(int(entry.name))
    return pids
