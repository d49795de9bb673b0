"""A throwaway RabbitMQ node for the fault tests that kill the broker itself (SIGKILL of its Erlang VM, as an OOM kill
or a host crash would): its own node name, ports, data folder, cookie and log under the test's temporary folder,
registered with the machine's epmd beside the machine's own node (which is never touched). Durable queues and
persistent messages, as Celery declares and sends them; no plugins."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

from tests.faults.servers import _wait, free_port

RABBITMQ_SERVER = Path(os.environ.get("OVERSIGHT_FAULTS_RABBITMQ_SERVER", "/usr/lib/rabbitmq/bin/rabbitmq-server"))


class RabbitMQ:
    def __init__(self, root: Path) -> None:
        self.dir = root / f"rabbitmq-{uuid.uuid4().hex[:6]}"
        self.dir.mkdir(parents=True)
        (self.dir / "home").mkdir()
        (self.dir / "enabled_plugins").write_text("[].\n")
        (self.dir / "rabbitmq.conf").write_text("loopback_users = none\n")
        self.node = f"oversight-faults-{uuid.uuid4().hex[:6]}@localhost"
        self.port = free_port()
        self.dist_port = free_port()
        self.process: subprocess.Popen | None = None

    def env(self) -> dict:
        return {
            **os.environ,
            "HOME": str(self.dir / "home"),  # the node's own Erlang cookie
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.dir / "log"),
            "RABBITMQ_PID_FILE": str(self.dir / "node.pid"),
            "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
            "RABBITMQ_CONF_ENV_FILE": str(self.dir / "rabbitmq-env.conf"),  # not the machine's
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }

    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def start(self, timeout: float = 180) -> float:
        """Start the node (the same data folder after a kill: what it had written to disk comes back)."""
        (self.dir / "rabbitmq-env.conf").touch()
        self.process = subprocess.Popen(
            [str(RABBITMQ_SERVER)],
            env=self.env(),
            stdout=open(self.dir / "stdout.log", "ab"),  # noqa: SIM115 - the node outlives this call
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return _wait(self.ready, timeout, f"RabbitMQ node {self.node}")

    def ready(self) -> bool:
        from kombu import Connection

        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"RabbitMQ exited: {self.log()[-2000:]}")
        try:
            with Connection(self.url(), connect_timeout=1) as conn:
                conn.ensure_connection(max_retries=1, timeout=1)
                return True
        except Exception:  # noqa: BLE001
            return False

    def log(self) -> str:
        path = self.dir / "stdout.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def sigkill(self) -> None:
        """SIGKILL the node's whole process group (the Erlang VM and its helpers): nothing is flushed or closed."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while self.ready_quietly() and time.monotonic() < deadline:
            time.sleep(0.1)

    def ready_quietly(self) -> bool:
        try:
            return self.ready()
        except RuntimeError:
            return False

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
