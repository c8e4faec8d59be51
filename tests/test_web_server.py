"""The served app (``sovsim serve``'s server) against slow and vanishing clients: request
headers and bodies have deadlines, and each dropped client is one log line, not a traceback."""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest
import uvicorn

from sovsim.web.app import Settings, create_app
from sovsim.web.server import allowed_hosts, is_loopback, protocol


@pytest.fixture(scope="module")
def server():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(Settings(workers=0, rate=0, allowed_hosts=("127.0.0.1",))),
                            log_level="warning", http=protocol(0.5, 0.5), timeout_keep_alive=2)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.05)
    yield port
    srv.should_exit = True
    thread.join(5)


def _closed_within(sock: socket.socket, seconds: float) -> float:
    sock.settimeout(seconds)
    t0 = time.monotonic()
    data = sock.recv(100)
    assert data == b"", data
    return time.monotonic() - t0


def test_slow_headers_and_body_are_cut_off(server, caplog):
    caplog.set_level(logging.WARNING, logger="sovsim.web")
    s = socket.create_connection(("127.0.0.1", server))
    s.sendall(b"GET /api/scenarios HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    assert _closed_within(s, 5) < 3
    s = socket.create_connection(("127.0.0.1", server))
    s.sendall(b"POST /api/scenario/parse HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"to")
    assert _closed_within(s, 5) < 3
    time.sleep(0.2)
    lines = [r.getMessage() for r in caplog.records if r.name == "sovsim.web"]
    assert any("headers took over" in x for x in lines) and any("body took over" in x for x in lines)
    assert not any("Traceback" in x for x in caplog.text.splitlines())


def test_disconnects_are_one_line_each(server, caplog):
    caplog.set_level(logging.WARNING)
    for _ in range(5):
        s = socket.create_connection(("127.0.0.1", server))
        s.sendall(b"POST /api/scenario/parse HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"to")
        s.close()
    time.sleep(0.5)
    assert "Traceback" not in caplog.text
    assert sum("disconnected" in r.getMessage() for r in caplog.records) >= 5


def test_a_full_request_is_answered_with_headers(server):
    s = socket.create_connection(("127.0.0.1", server))
    s.sendall(b"GET /api/scenarios HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    s.settimeout(10)
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    head = data.split(b"\r\n\r\n")[0].decode().lower()
    assert head.startswith("http/1.1 200") and "content-security-policy" in head
    s = socket.create_connection(("127.0.0.1", server))
    s.sendall(b"GET /api/scenarios HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
    assert s.recv(100).startswith(b"HTTP/1.1 400")


def test_allowed_hosts():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and not is_loopback("0.0.0.0")
    assert allowed_hosts("127.0.0.1") == ("127.0.0.1", "::1", "localhost")
    wide = allowed_hosts("0.0.0.0", ["Class.Example"])
    assert "class.example" in wide and socket.gethostname().lower() in wide
