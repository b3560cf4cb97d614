"""A real uvicorn on a free loopback port, in its own process and storage folder: `server:app` (the
dashboard with the API beside it) or `api.main:app` (the API alone), as users start them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from core.config import Settings
from tests.app_harness import ROOT, app_environment
from tests.conftest import make_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Running:
    base: str
    settings: Settings  # the server's settings as this process sees them (same database and storage)
    log: Path
    process: subprocess.Popen


@contextmanager
def serve(
    app: str, folder: Path, *, database_url: str | None = None, **environment: str
) -> Iterator[Running]:
    """`python -m uvicorn APP` with the test environment plus `environment`; stopped afterwards."""
    port = free_port()
    values = app_environment(folder / "data", DATABASE_URL=database_url or "", **environment)
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / f"uvicorn-{port}.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, **values},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{app} did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        overrides = {name.lower(): value for name, value in environment.items() if name.isupper()}
        settings = make_settings(folder, database_url, **overrides)
        yield Running(base, settings, log_path, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
