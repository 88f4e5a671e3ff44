"""Where a server's CPU goes during a benchmark's measured window: py-spy on the Python process,
`perf` on PostgreSQL's backends.

`bench/receiver.py --profile DIR` starts a `Profiler` at the start of each measured window of the
receiver: py-spy samples the receiver process (every thread, 200 Hz, raw collapsed stacks) and,
when the store is PostgreSQL and `perf` is installed (Debian's `linux-perf`), `perf record -g`
samples every PostgreSQL process for the same seconds. Afterwards the tables name the functions
with the largest shares of the samples: their own time (self) and with their callees (inclusive).

py-spy comes with `make bench` (the `bench` extra); both need ptrace / perf_event rights (root, or
`kernel.perf_event_paranoid` ≤ 1 for perf). Raw files stay in DIR for flame graphs
(`flamegraph.pl DIR/<name>.pyspy.txt > out.svg`, or `perf report -i DIR/<name>.perf.data`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

__all__ = ["Profiler", "pyspy_shares", "perf_shares", "print_shares", "summarize"]

_FRAME = re.compile(r"(?P<func>.*) \((?P<file>.*?)(?::\d+)?\)$")


class Profiler:
    """py-spy (and perf) for one measured window; `start` returns at once, `finish` waits for both."""

    def __init__(self, outdir: Path) -> None:
        self.outdir = outdir
        outdir.mkdir(parents=True, exist_ok=True)
        beside = Path(sys.executable).parent / "py-spy"  # the venv's, when it is not on PATH
        self.pyspy = shutil.which("py-spy") or (str(beside) if beside.exists() else None)
        self.perf = shutil.which("perf")
        if self.pyspy is None:
            raise SystemExit("--profile needs py-spy: `make bench` installs it (pip install 'wedwatch[bench]')")
        self._running: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, pid: int, seconds: float, postgres_pids: list[int]) -> None:
        """Sample `pid` (and `postgres_pids` with perf, when installed) for `seconds`, into DIR/name.*."""
        duration = str(max(1, round(seconds)))
        log = (self.outdir / f"{name}.log").open("ab")
        self._running.append(
            subprocess.Popen(
                [self.pyspy, "record", "--pid", str(pid), "--duration", duration, "--rate", "200", "--threads",
                 "--nonblocking", "--format", "raw", "--output", str(self.outdir / f"{name}.pyspy.txt")],
                stdout=log, stderr=log,
            )  # fmt: skip
        )
        if self.perf is not None and postgres_pids:
            self._running.append(
                subprocess.Popen(
                    [self.perf, "record", "-F", "499", "-g", "-o", str(self.outdir / f"{name}.perf.data"),
                     "-p", ",".join(map(str, postgres_pids)), "--", "sleep", duration],
                    stdout=log, stderr=log,
                )  # fmt: skip
            )
        log.close()

    def finish(self, timeout: float = 120.0) -> None:
        """Wait for the samplers started so far."""
        for proc in self._running:
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._running.clear()


def _frame(text: str) -> str:
    match = _FRAME.match(text)
    if match is None:
        return text
    where = match["file"].split("site-packages/")[-1].split("/src/")[-1]
    return f"{match['func']} ({where})"


def pyspy_shares(path: Path) -> tuple[int, Counter[str], Counter[str]]:
    """From py-spy's raw output: samples, and per function the samples in it (self) and under it (inclusive)."""
    own: Counter[str] = Counter()
    under: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_frame(f) for f in stack.split(";")]
        own[frames[-1]] += n
        for frame in set(frames):
            under[frame] += n
    return total, own, under


def perf_shares(path: Path, *, children: bool) -> list[tuple[float, str]]:
    """perf report's symbols with their share of the samples (self, or with `children` inclusive)."""
    report = subprocess.run(
        ["perf", "report", "-i", str(path), "--stdio", "-g", "none", "--sort", "symbol",
         "--children" if children else "--no-children"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    shares = []
    for line in report.stdout.splitlines():
        fields = line.split()
        if not fields or line.startswith("#") or not fields[0].endswith("%"):
            continue
        # "--children": children% self% [.] symbol; otherwise: self% [.] symbol
        symbol = line.split("] ", 1)[-1].split("  ", 1)[0].strip()  # then perf's empty "-  -" columns
        if symbol.startswith("0x"):
            continue  # unresolved address: says nothing
        shares.append((float(fields[0].rstrip("%")), symbol))
    return shares


def print_shares(title: str, shares: list[tuple[float, str]], top: int = 20) -> None:
    """A short table: share of samples, function."""
    print(f"\n{title}\n")
    for share, name in shares[:top]:
        print(f"  {share:5.1f} %  {name}")


def summarize(outdir: Path, name: str, top: int = 20) -> None:
    """Print the tables for one profiled window (py-spy, then perf when it ran)."""
    raw = outdir / f"{name}.pyspy.txt"
    if raw.exists():
        total, own, under = pyspy_shares(raw)
        if total:
            print_shares(f"{name}: py-spy, self ({total} samples)", [(100 * n / total, f) for f, n in own.most_common()], top)
            ours = [(100 * n / total, f) for f, n in under.most_common() if "(wedwatch/" in f]
            print_shares(f"{name}: py-spy, inclusive, wedwatch's own functions", ours, top)
    data = outdir / f"{name}.perf.data"
    if data.exists() and shutil.which("perf"):
        print_shares(f"{name}: perf on PostgreSQL, self", perf_shares(data, children=False), top)
        print_shares(f"{name}: perf on PostgreSQL, inclusive", perf_shares(data, children=True), top)
