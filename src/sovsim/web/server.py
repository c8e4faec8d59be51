"""Serving the app (``sovsim serve``): uvicorn with read timeouts, a bound on connections, the
host names it answers for, and one log line per dropped or disconnected client.

uvicorn times out idle keep-alive connections but not a client that sends its request slowly;
here each request's headers must arrive within ``header_timeout`` seconds of its first byte and
its body within ``body_timeout`` seconds of its headers, or the connection is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("sovsim.web")

HEADER_TIMEOUT = 10.0  # seconds from a request's first byte to the end of its headers
BODY_TIMEOUT = 30.0  # seconds from the end of the headers to the end of the body
KEEP_ALIVE = 5  # seconds an idle connection is kept
MAX_CONNECTIONS = 512  # open at once; more are answered 503
LOOPBACK = ("localhost", "127.0.0.1", "::1")


def protocol(header_timeout: float = HEADER_TIMEOUT, body_timeout: float = BODY_TIMEOUT):
    """uvicorn's h11 protocol with read deadlines (a class for ``uvicorn.Config(http=...)``)."""

    class TimedH11Protocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None
        _phase = ""

        def data_received(self, data: bytes) -> None:
            if self._deadline is None and self.conn.their_state is h11.IDLE:
                self._arm("headers", header_timeout)
            super().data_received(data)
            state = self.conn.their_state
            if state is h11.SEND_BODY and self._phase == "headers":
                self._arm("body", body_timeout)
            elif state is not h11.IDLE and state is not h11.SEND_BODY:
                self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            if self.cycle is not None and not self.cycle.response_complete:
                log.warning("client %s disconnected before its answer was sent", _who(self))
            super().connection_lost(exc)

        def _arm(self, phase: str, seconds: float) -> None:
            self._disarm()
            self._phase = phase
            self._deadline = self.loop.call_later(seconds, self._expired)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            self._deadline, self._phase = None, ""

        def _expired(self) -> None:
            phase = self._phase
            self._deadline, self._phase = None, ""
            if not self.transport.is_closing():
                log.warning("client %s too slow: its request %s took over %g s; connection "
                            "closed", _who(self), phase,
                            header_timeout if phase == "headers" else body_timeout)
                if self.cycle is not None:
                    self.cycle.disconnected = True
                    self.cycle.message_event.set()
                self.transport.close()

    return TimedH11Protocol


def _who(proto) -> str:
    client = getattr(proto, "client", None)
    return f"{client[0]}:{client[1]}" if client else "unknown"


def is_loopback(host: str) -> bool:
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed_hosts(host: str, extra: list[str] | tuple[str, ...] = ()) -> tuple[str, ...]:
    """The Host names the server answers for: loopback names always; serving beyond loopback,
    this machine's name, its full name and addresses, and the names given (``--allow-host``)."""
    names = set(LOOPBACK) | {h.lower() for h in extra}
    if not is_loopback(host):
        if host not in ("0.0.0.0", "::"):
            names.add(host.lower())
        hostname = socket.gethostname()
        names |= {hostname.lower(), socket.getfqdn().lower()}
        with contextlib.suppress(OSError):
            names |= {info[4][0] for info in socket.getaddrinfo(hostname, None)}
    return tuple(sorted(names))


def serve(app, host: str, port: int, *, header_timeout: float = HEADER_TIMEOUT,
          body_timeout: float = BODY_TIMEOUT) -> None:  # pragma: no cover (a server)
    import uvicorn

    logging.basicConfig(format="%(levelname)s: %(message)s")
    config = uvicorn.Config(app, host=host, port=port, log_level="warning",
                            http=protocol(header_timeout, body_timeout),
                            timeout_keep_alive=KEEP_ALIVE, limit_concurrency=MAX_CONNECTIONS,
                            h11_max_incomplete_event_size=16 * 1024)
    uvicorn.Server(config).run()
