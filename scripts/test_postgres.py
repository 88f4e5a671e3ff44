#!/usr/bin/env python3
"""Make sure a PostgreSQL answers for the tests; start a throwaway cluster when none does.

`up` prints the URL to use (WEDWATCH_TEST_POSTGRES_URL or the default when it answers, else a
fresh cluster on a free loopback port, installing Debian's server package first when needed);
`down` stops the cluster `up` started. State lives in the directory given by --state.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _answers(url: str) -> str | None:
    try:
        import psycopg
    except ImportError as exc:  # the venv is made before this runs
        return f"psycopg missing: {exc}"
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


def _server_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _install_server() -> None:
    if not shutil.which("apt-get") or os.geteuid() != 0:
        return
    print("test-postgres: installing Debian's postgresql server package", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "-q", "postgresql"], check=False, env=env, stdout=sys.stderr)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(argv: list[str]) -> list[str]:
    # initdb refuses to run as root.
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def up(state: Path) -> int:
    url = os.environ.get("WEDWATCH_TEST_POSTGRES_URL", DEFAULT_URL)
    problem = _answers(url)
    if problem is None:
        print(url)
        return 0
    print(f"test-postgres: {url} does not answer ({problem}); starting a throwaway cluster", file=sys.stderr)
    bindir = _server_bin()
    if bindir is None:
        _install_server()
        bindir = _server_bin()
    if bindir is None:
        print("test-postgres: no PostgreSQL server binaries and no way to install them", file=sys.stderr)
        return 1
    data = Path(tempfile.mkdtemp(prefix="wedwatch-pg-"))
    os.chmod(data, 0o700)
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    port = _free_port()
    subprocess.run(
        _as_postgres([str(bindir / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres"]),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={data} -c fsync=off"
    subprocess.run(
        _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(data / "log"), "-w", "start"]),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    state.mkdir(parents=True, exist_ok=True)
    (state / "datadir").write_text(f"{bindir}\n{data}\n")
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    for _ in range(50):
        if _answers(url) is None:
            break
        time.sleep(0.1)
    print(url)
    return 0


def down(state: Path) -> int:
    marker = state / "datadir"
    if not marker.exists():
        return 0
    bindir, data = marker.read_text().split()
    subprocess.run(_as_postgres([f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"]), check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(data, ignore_errors=True)
    marker.unlink()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--state", type=Path, default=Path(".test-postgres"))
    args = parser.parse_args()
    return up(args.state) if args.action == "up" else down(args.state)


if __name__ == "__main__":
    sys.exit(main())
