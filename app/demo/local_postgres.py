"""A throwaway PostgreSQL on loopback: Debian's postgresql, started and stopped here.

For the tests (tests/support/postgres.py re-exports it) and the CRM benchmark
(bench/bench_crm.py), which both need a real server they own and remove afterwards.

Installs the package with apt-get when it is missing and we may (root, apt-get
present); otherwise the caller skips with the reason. The cluster runs as the
``postgres`` system user when we are root (the server refuses to run as root).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from app.servers.servers import free_port

USER = "leadops"


class Unavailable(RuntimeError):
    """PostgreSQL cannot be installed or started on this machine (the test skips)."""


def _bin_dir() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def ensure_installed() -> str:
    """The folder holding initdb and postgres, installing Debian's postgresql if needed."""
    folder = _bin_dir()
    if folder:
        return folder
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise Unavailable(
            "postgresql is not installed and apt-get install needs root; "
            "run `apt-get install -y postgresql`"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "postgresql"]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise Unavailable(f"`{' '.join(cmd)}` failed: {done.stderr.strip().splitlines()[-1:]}")
    folder = _bin_dir()
    if not folder:
        raise Unavailable("apt-get installed postgresql but initdb was not found")
    return folder


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def postgres(databases: tuple[str, ...], password: str | None = None) -> Iterator[dict[str, str]]:
    """Start a cluster on a free loopback port; yield a SQLAlchemy-style URL per database
    (``postgresql://leadops@127.0.0.1:PORT/NAME``). Trust auth: loopback and test only;
    with ``password``, TCP logins need it (scram-sha-256) and the URLs do not hold it."""
    folder = ensure_installed()
    root = tempfile.mkdtemp(prefix="leadops-pg-")
    os.chmod(root, 0o755)
    auth = ["-A", "trust"]
    if password is not None:
        with open(os.path.join(root, "pwfile"), "w") as handle:
            handle.write(password)
        auth = ["--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={root}/pwfile"]
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        if password is not None:
            shutil.chown(os.path.join(root, "pwfile"), "postgres", "postgres")
    data, port = os.path.join(root, "data"), free_port()
    init = subprocess.run(
        _as_owner([f"{folder}/initdb", "-D", data, "-U", USER, *auth, "-E", "UTF8"]),
        capture_output=True,
        text=True,
    )
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise Unavailable(f"initdb failed: {init.stderr.strip()[-300:]}")
    log_path = os.path.join(root, "postgres.log")
    handle = open(log_path, "ab")  # noqa: SIM115 (closed below, after the server stops)
    proc = subprocess.Popen(
        _as_owner(
            [
                f"{folder}/postgres",
                "-D",
                data,
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-k",
                root,
                "-c",
                "fsync=off",
            ]
        ),
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        import psycopg2

        deadline = time.monotonic() + 60
        while True:
            try:
                conn = psycopg2.connect(
                    host="127.0.0.1", port=port, user=USER, dbname="postgres", password=password
                )
                break
            except psycopg2.OperationalError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise Unavailable(f"postgres did not start; see {log_path}") from None
                time.sleep(0.3)
        conn.autocommit = True
        with conn.cursor() as cursor:
            for name in databases:
                cursor.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        yield {name: f"postgresql://{USER}@127.0.0.1:{port}/{name}" for name in databases}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        handle.close()
        shutil.rmtree(root, ignore_errors=True)
