"""Helpers the benchmark scripts share: machine facts, process CPU and memory, free ports, the processes a
run starts, a database of its own, scraped metrics, tables and JSON results."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import platform
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "ROOT",
    "RESULTS",
    "PYTHON",
    "WEDWATCH",
    "machine",
    "cpu_seconds",
    "rss_bytes",
    "system_busy_seconds",
    "free_port",
    "wait_http",
    "spawn",
    "stop",
    "Fleet",
    "cancel_on_sigterm",
    "POSTGRES_URL",
    "postgres_schema",
    "fetch",
    "samples",
    "histogram_quantile",
    "table",
    "write_json",
    "median",
    "percentile",
    "write_calendar",
    "platform_args",
    "start_platform",
    "warm_guest_lists",
]

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
# The scripts run with the project's interpreter; its `wedwatch` entry point sits beside it.
PYTHON = sys.executable
WEDWATCH = str(Path(sys.executable).with_name("wedwatch"))
_TICKS = os.sysconf("SC_CLK_TCK")
# The benchmarks' PostgreSQL: each run works in a schema of its own there (see postgres_schema).
POSTGRES_URL = os.environ.get("WEDWATCH_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def machine() -> dict[str, Any]:
    """What the numbers were measured on: processors, CPU model, Python and library versions."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version

    return {
        "nproc": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "python": platform.python_version(),
        "aiohttp": version("aiohttp"),
        "prometheus_client": version("prometheus_client"),
        "msgspec": _version_or_none("msgspec"),
        "kernel": platform.release(),
    }


def _version_or_none(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of one process so far, all its threads, from /proc/<pid>/stat."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may hold spaces; fields after its closing parenthesis are fixed.
    fields = raw[raw.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / _TICKS


def rss_bytes(pid: int) -> int:
    """Resident memory of one process now (VmRSS from /proc/<pid>/status); 0 once it has exited."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0  # a zombie has no VmRSS line


def system_busy_seconds() -> float:
    """CPU seconds all processors have spent not idle since boot (from /proc/stat), to spot a busy machine."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    # guest time is already counted in user and nice
    return (sum(fields[:8]) - idle) / _TICKS


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, *, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Poll `url` until it answers 200; fail early when `proc` has exited."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {timeout:g}s")
        time.sleep(0.1)


def spawn(args: Sequence[str], *, log: Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Start a helper process with its output in `log`, in its own session so that stop() reaches only it."""
    out = log.open("ab")
    return subprocess.Popen(
        list(args), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=cwd, start_new_session=True
    )


def stop(proc: subprocess.Popen[bytes], *, timeout: float = 15.0) -> None:
    """SIGTERM, then SIGKILL after `timeout`; only the process this script started."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Fleet:
    """The processes one run starts, each logging to `<workdir>/<name>.log`, all stopped when the block ends.

    Stopping in reverse order of start (clients before what they call) happens on a normal end,
    an exception and Ctrl-C alike; with `cancel_on_sigterm` a SIGTERM ends the run the same way.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(
        self, name: str, args: Sequence[str], *, ready: str | None = None, env: dict[str, str] | None = None,
        cwd: Path | None = None, timeout: float = 60.0,
    ) -> subprocess.Popen[bytes]:  # fmt: skip
        """Start `args` as `name`; when `ready` is a URL, wait until it answers 200."""
        if name in self.processes:
            raise ValueError(f"a process named {name!r} is already running")
        proc = spawn(args, log=self.workdir / f"{name}.log", env=env, cwd=cwd)
        self.processes[name] = proc
        if ready is not None:
            wait_http(ready, timeout=timeout, proc=proc)
        return proc

    def pids(self) -> dict[str, int]:
        """Each process's pid by name."""
        return {name: proc.pid for name, proc in self.processes.items()}

    def exited(self) -> dict[str, int]:
        """The processes that have exited on their own, with their exit codes."""
        return {name: code for name, proc in self.processes.items() if (code := proc.poll()) is not None}

    def stop_all(self) -> None:
        """Stop every process, newest first."""
        for proc in reversed(list(self.processes.values())):
            stop(proc)

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop_all()


def cancel_on_sigterm() -> None:
    """From inside a coroutine: SIGTERM cancels the current task, so its finally blocks stop what it started.

    (Ctrl-C already does that under asyncio.run.)
    """
    task = asyncio.current_task()
    if task is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)


@contextmanager
def postgres_schema(base_url: str = POSTGRES_URL) -> Iterator[str]:
    """A new schema on the server of `base_url`: yields a URL whose search_path is only that schema; dropped after."""
    import psycopg
    from psycopg import sql

    schema = f"wedwatch_bench_{secrets.token_hex(6)}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        parts = urlsplit(base_url)
        query = urlencode([*parse_qsl(parts.query), ("options", f"-csearch_path={schema}")])
        yield urlunsplit(parts._replace(query=query))
    finally:
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def fetch(url: str, *, gzipped: bool = False, timeout: float = 30.0) -> tuple[bytes, int]:
    """GET `url`: the decoded body and how many bytes came over the wire (gzip when `gzipped`)."""
    headers = {"Accept-Encoding": "gzip"} if gzipped else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as response:
        raw: bytes = response.read()
        encoded = response.headers.get("Content-Encoding") == "gzip"
    return (gzip.decompress(raw) if encoded else raw), len(raw)


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def samples(text: str, *names: str) -> list[tuple[str, dict[str, str], float]]:
    """The samples of the metrics `names` (exact sample names, e.g. `x_bucket`) in a text exposition.

    A line filter rather than a full parser: the exporter's exposition holds ~100,000 series and
    the benchmarks need a handful of them.
    """
    wanted = set(names)
    out = []
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(names):
            continue
        match = _SAMPLE.match(line)
        if match is None or match[1] not in wanted:
            continue
        out.append((match[1], dict(_LABEL.findall(match[2] or "")), float(match[3])))
    return out


def histogram_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float:
    """The q-quantile (0-1) of cumulative (upper bound, count) buckets, interpolated as Prometheus does;
    infinity when it lies beyond the largest finite bound (where Prometheus answers that bound)."""
    ordered = sorted(buckets)
    if not ordered or ordered[-1][1] <= 0:
        return float("nan")
    rank = q * ordered[-1][1]
    lower, below = 0.0, 0.0
    for bound, count in ordered:
        if count >= rank:
            if bound == float("inf"):
                return bound
            return lower + (bound - lower) * ((rank - below) / (count - below) if count > below else 0.0)
        lower, below = bound, count
    return lower


def median(values: Sequence[float]) -> float:
    """The median, NaN for no values."""
    return statistics.median(values) if values else float("nan")


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of already sorted values, nearest rank."""
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, title: str = "") -> str:
    """A plain fixed-width table (also valid Markdown), numbers right-aligned."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    cells = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    numeric = [bool(rows) and all(isinstance(r[i], int | float) for r in rows) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric, strict=True)]
        return "| " + " | ".join(parts) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if n else ("-" * (w + 2)) for w, n in zip(widths, numeric, strict=True)) + "|"
    out = [f"\n{title}\n"] if title else []
    out += [line(headers), rule, *(line(r) for r in cells)]
    return "\n".join(out)


def write_json(name: str, data: dict[str, Any]) -> Path:
    """Write bench/results/<name>.json with the machine and the time of the run."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {"benchmark": name, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(), **data}
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return path


def write_calendar(path: Path, weddings: Sequence[Any]) -> Path:
    """A calendar file (JSON) holding `weddings`, as `calendar.file` and the platform read it."""
    path.write_text(json.dumps({"weddings": [w.to_dict() for w in weddings]}))
    return path


def platform_args(calendar: Path, port: int) -> list[str]:
    """The command line of the platform stand-in the benchmarks probe (see start_platform)."""
    return [PYTHON, str(Path(__file__)), "platform", str(port), str(calendar)]


def start_platform(calendar: Path, port: int, *, log: Path) -> subprocess.Popen[bytes]:
    """The platform stand-in in its own process, every simulated latency at zero, no access log."""
    proc = spawn(platform_args(calendar, port), log=log)
    wait_http(f"http://127.0.0.1:{port}/-/healthy", proc=proc)
    return proc


def warm_guest_lists(base_url: str, wedding_ids: Sequence[str]) -> None:
    """Fetch every guest list once: the stand-in builds each on first use, which must not happen in a window."""
    for wedding_id in wedding_ids:
        with urllib.request.urlopen(f"{base_url}/api/weddings/{wedding_id}/guests") as response:
            response.read()


def _serve_platform(port: int, calendar: str) -> None:
    from aiohttp import web

    from wedwatch.calendar import load_calendar_file
    from wedwatch.platform import PlatformSettings, create_app

    settings = PlatformSettings(
        guest_list_base_seconds=0,
        guest_list_per_guest_seconds=0,
        timeline_propagation_seconds=0,
        notification_sent_seconds=0,
        notification_delivery_seconds=0,
    )
    app = create_app(load_calendar_file(calendar).weddings, settings=settings)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    # `python bench/_support.py platform PORT CALENDAR`: the stand-in the benchmarks probe.
    if len(sys.argv) == 4 and sys.argv[1] == "platform":
        _serve_platform(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit("usage: _support.py platform PORT CALENDAR")
