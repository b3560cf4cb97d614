"""bench/RESULTS.md is shared by all benchmark scripts: each rewrites only its own section."""

from __future__ import annotations

import fcntl
import platform
import re
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
_HEADER = "# Benchmark results\n\nEach section is rewritten by the script named in it (`make bench` runs them all).\n"


def write_section(name: str, markdown: str) -> None:
    """Replace (or append) the section `name` of RESULTS.md with `markdown`, under a file lock."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = (
        f"<!-- bench:{name} -->\n{markdown.strip()}\n\n"
        f"_Measured {stamp} on {platform.machine()}, {platform.python_version()}, "
        f"{_cpu_count()} CPU(s){_widest_simd()}._\n<!-- /bench:{name} -->"
    )
    lock_path = RESULTS.with_suffix(".lock")
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = RESULTS.read_text() if RESULTS.exists() else _HEADER
        pattern = re.compile(
            rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.DOTALL
        )
        text = pattern.sub(lambda _: body, text) if pattern.search(text) else text.rstrip() + "\n\n" + body
        RESULTS.write_text(text.rstrip() + "\n")


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0))


def _widest_simd() -> str:
    """The CPU's widest vector instructions: libraries pick their code paths by them (OpenCV, x264),
    and rounding can differ between paths, so figures that read exact pixel values name it."""
    try:
        flags = set(
            re.search(r"^flags\s*:(.*)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE).group(1).split()
        )
    except (OSError, AttributeError):
        return ""
    for flag, name in (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"), ("sse4_2", "SSE4.2")):
        if flag in flags:
            return f" with {name}"
    return ""
