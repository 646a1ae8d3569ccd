"""Run the fake iQualify server in a separate process for a benchmark.

``with FakeServerProcess(seed="demo", faults={"latency_ms": 50}) as server:`` starts
``python -m benchmarks._server`` in a child process, waits until it answers HTTP, and stops it
on exit; ``server.base_url`` and ``server.api_key`` are what a client needs.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from types import TracebackType
from typing import Any

API_KEY = "bench-key-0123456789"
_READY = "READY "


class FakeServerProcess:
    """The fake server in a child process (so client and server each get their own core)."""

    def __init__(
        self,
        *,
        seed: str | int | None = "demo",
        faults: dict[str, Any] | None = None,
        api_key: str = API_KEY,
        start_timeout: float = 30.0,
    ) -> None:
        self.seed = seed
        self.faults = dict(faults or {})
        self.api_key = api_key
        self.start_timeout = start_timeout
        self.base_url = ""
        self._proc: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError("the fake server process is not running")
        return self._proc.pid

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "benchmarks._server",
            "--api-key",
            self.api_key,
            "--faults",
            json.dumps(self.faults),
        ]
        if self.seed is not None:
            command += ["--seed", str(self.seed)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=None, text=True, env=env
        )
        deadline = time.monotonic() + self.start_timeout
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()  # blocks until the child reports its address
        if not line.startswith(_READY):
            self.stop()
            raise RuntimeError(f"the fake server did not start (said {line!r})")
        self.base_url = line[len(_READY) :].strip()
        self._wait_until_answering(deadline)

    def _wait_until_answering(self, deadline: float) -> None:
        request = urllib.request.Request(
            self.base_url + "/openapi.json", headers={"Authorization": self.api_key}
        )
        while True:
            try:
                with urllib.request.urlopen(request, timeout=2) as response:
                    response.read()
                    return
            except urllib.error.HTTPError:
                return  # it answered, even if with an error status
            except OSError as exc:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"the fake server does not answer: {exc}") from exc
                time.sleep(0.05)

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        import psutil  # type: ignore[import-untyped,unused-ignore]

        times = psutil.Process(self.pid).cpu_times()
        return float(times.user + times.system)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def __enter__(self) -> FakeServerProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _main() -> None:
    parser = argparse.ArgumentParser(description="Serve the fake iQualify API for a benchmark.")
    parser.add_argument("--api-key", default=API_KEY)
    parser.add_argument("--seed", default=None)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--faults", default="{}", help="Faults(...) keyword arguments as JSON")
    args = parser.parse_args()

    from iqualify_async.testing import FakeIQualify, Faults, run_forever

    def ready(fake: FakeIQualify) -> None:
        print(_READY + fake.base_url, flush=True)

    run_forever(
        port=args.port,
        api_key=args.api_key,
        seed=args.seed,
        faults=Faults(**json.loads(args.faults)),
        on_ready=ready,
    )


if __name__ == "__main__":
    _main()
