"""``Simulator``: the programmatic handle on a running simulator (start, stop, reset, faults)."""

from __future__ import annotations

import threading
from typing import Any

from . import icws_api, messaging, sim_api, subscriptions
from .app import App
from .seed import default_seed, load_seed, service_credentials
from .server import Server

# A live server lists its switchover peer even when alone (REF 10); the name is a *choice*.
DEFAULT_ALTERNATE_HOSTS = ("cic-icws",)


class Simulator:
    """An ICWS simulator serving over HTTP from a daemon thread. See the package docstring."""

    def __init__(
        self,
        seed: dict[str, Any] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        apply_delay: float = 0.2,
        session_idle_timeout: float = 900.0,
        service_user: str | None = None,
        service_password: str | None = None,
        dialer_version: int = 7,
        alternate_hosts: tuple[str, ...] | list[str] = DEFAULT_ALTERNATE_HOSTS,
        messaging_version: int = 2,
        rich_campaigns: bool = False,
    ) -> None:
        if apply_delay < 0 or session_idle_timeout <= 0:
            raise ValueError("apply_delay must be >= 0 and session_idle_timeout > 0")
        env_user, env_password = service_credentials()
        self.host = host
        self._requested_port = port
        self.app = App(
            load_seed(seed) if seed is not None else default_seed(),
            apply_delay=apply_delay,
            session_idle_timeout=session_idle_timeout,
            service_user=service_user or env_user,
            service_password=service_password or env_password,
            dialer_version=dialer_version,
            routes=icws_api.ROUTES + messaging.ROUTES + subscriptions.ROUTES + sim_api.ROUTES,
            alternate_hosts=tuple(alternate_hosts),
            messaging_version=messaging_version,
            rich_campaigns=rich_campaigns,
        )
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        where = self.base_url if self._server else "stopped"
        return f"<Simulator {where}>"

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the simulator is not running")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)  # noqa: S104
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}"

    @property
    def seed(self) -> dict[str, Any]:
        return self.app.seed

    def start(self) -> str:
        """Bind and serve in a daemon thread; returns ``base_url``."""
        if self._server is not None:
            raise RuntimeError("the simulator is already running")
        self.app.stopping.clear()
        self._server = Server((self.host, self._requested_port), self.app)
        self.app.allocator.start()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"icws-simulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving, close open connections, stop the allocator. Safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        self.app.stopping.set()
        server.shutdown()
        server.server_close()
        server.close_connections()
        self.app.allocator.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def reset(self) -> None:
        """Back to the seed: world, sessions, faults, move log, pending moves, call counters."""
        self.app.reset()

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        """Same as ``POST /sim/faults``; raises ``ValueError`` naming a bad field."""
        self.app.set_faults(faults)
        return self.app.faults.snapshot()

    def clear_faults(self) -> None:
        self.app.faults.clear()

    def state(self) -> dict[str, Any]:
        """Same as ``GET /sim/state``."""
        return self.app.world.snapshot()

    def dialer_login(self, user_id: str, logged_in: bool = True) -> None:
        """Same as ``POST /sim/dialer-login``: the user's own client logs in to Dialer (or out)."""
        self.app.agent_dialer.set_logged_in(user_id, logged_in)

    def ready_for_calls_log(self) -> list[dict[str, Any]]:
        """Same as ``GET /sim/ready-for-calls``."""
        return self.app.agent_dialer.calls()

    def moves(self) -> list[dict[str, Any]]:
        """Same as ``GET /sim/moves``."""
        return self.app.world.move_log()

    def wait_idle(self, timeout: float = 5) -> None:
        """Block until every accepted allocate-agents is applied; ``TimeoutError`` otherwise."""
        if not self.app.allocator.wait_idle(timeout):
            raise TimeoutError(
                f"{self.app.allocator.pending()} allocations still pending after {timeout:g} s"
            )
