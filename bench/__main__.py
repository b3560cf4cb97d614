"""`python -m bench [NAME ...]` (`make bench`): run every bench/bench_*.py in turn, or the named ones.

Each script runs in its own process (a crash or a memory peak in one does not touch the others) and
rewrites only its own section of bench/RESULTS.md. Exits non-zero when any script failed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def scripts(names: list[str]) -> list[str]:
    found = sorted(path.stem for path in HERE.glob("bench_*.py"))
    if not names:
        return found
    wanted = [name if name.startswith("bench_") else f"bench_{name}" for name in names]
    unknown = [name for name in wanted if name not in found]
    if unknown:
        raise SystemExit(f"no such benchmark: {', '.join(unknown)} (have: {', '.join(found)})")
    return wanted


def main(argv: list[str]) -> int:
    failed = []
    for name in scripts(argv):
        print(f"== {name}", flush=True)
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=HERE.parent, check=False)
        print(f"== {name}: {'ok' if done.returncode == 0 else f'FAILED (exit {done.returncode})'}"
              f" in {time.monotonic() - started:.0f} s", flush=True)  # fmt: skip
        if done.returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"results: {HERE / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
