"""Throwaway servers the fault tests may kill and restart: a PostgreSQL cluster, a persistent Redis
broker (``appendonly yes``) and a frame-store Redis without persistence, each on a free port under a
temporary folder. Never the machine's own servers (others share them)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

PG_BIN = Path(os.environ.get("OVERSIGHT_FAULTS_PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; CI and these machines run as root.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _wait(condition, timeout: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not come up within {timeout} s")


class Postgres:
    def __init__(self, root: Path) -> None:
        self.data = root / "pg"
        self.port = free_port()
        self.log = root / "pg.log"

    def init(self) -> None:
        self.data.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
            shutil.chown(self.data.parent, "postgres", "postgres")
        subprocess.run(
            _as_postgres([str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.start()

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.log),
                    "-o",
                    f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off",
                    "-w",
                    *args,
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def ready(self) -> bool:
        return (
            subprocess.run(
                [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"], check=False
            ).returncode
            == 0
        )

    def start(self) -> float:
        self._ctl("start")
        return _wait(self.ready, 60, "PostgreSQL")

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"


class Redis:
    def __init__(self, root: Path, name: str, *, persistent: bool) -> None:
        self.dir = root / name
        self.dir.mkdir(parents=True)
        self.port = free_port()
        self.persistent = persistent
        self.process: subprocess.Popen | None = None

    def start(self) -> float:
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", *persistence]
            + ["--dir", str(self.dir), "--logfile", str(self.dir / "redis.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return _wait(self.ping, 30, f"Redis on {self.port}")

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        """A clean shutdown (SHUTDOWN: the AOF is complete), as a restart by an operator would."""
        import redis

        try:
            redis.Redis(port=self.port).shutdown(nosave=not self.persistent)
        except redis.RedisError:
            pass
        if self.process is not None:
            self.process.wait(timeout=30)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


class Servers:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="oversight-faults-"))
        self.pg = Postgres(self.root)
        self.broker = Redis(self.root, "broker", persistent=True)
        self.store = Redis(self.root, "store", persistent=False)

    def start(self) -> None:
        self.pg.init()
        self.broker.start()
        self.store.start()

    def close(self) -> None:
        for redis_server in (self.broker, self.store):
            redis_server.kill()
        try:
            self.pg.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)


class Worker:
    """A real ``celery worker`` process (solo pool: one task at a time, the engine loaded at the
    first task) on this test's own queue, pointed at the throwaway servers."""

    def __init__(self, env: dict, queue: str, log: Path) -> None:
        self.env, self.queue, self.log = env, queue, log
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1"]
            + ["-Q", self.queue, "--without-gossip", "--without-mingle", "--without-heartbeat"]
            + ["--loglevel=INFO", f"--logfile={self.log}", "-n", f"fault-{uuid.uuid4().hex[:6]}@%h"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        return self

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def sigkill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
