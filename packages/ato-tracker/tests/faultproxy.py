"""A TCP proxy on 127.0.0.1 in front of a real database server, for fault-injection tests.

Point a database URL at :attr:`FaultProxy.port` (:meth:`FaultProxy.url`) and break the link on
purpose:

- :meth:`pause` stops forwarding bytes both ways while keeping every socket open (a frozen
  server or network); :meth:`resume` forwards again;
- :meth:`pause_on` pauses as soon as the client sends a chunk containing a pattern (e.g.
  ``b"COMMIT"``), before forwarding it;
- :meth:`cut` closes every open connection (the server went away);
- :meth:`refuse` makes the proxy close each new connection at once (server down) until
  :meth:`accept` is called;
- :meth:`drop_reply_to` forwards the next client chunk containing a pattern (e.g. ``COMMIT``)
  to the server, waits for the server's reply, drops it and closes the client's connection:
  the server committed, the client never heard of it.

Everything runs on daemon threads and stops with :meth:`close`; only loopback addresses are
used.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from typing import Any

from sqlalchemy.engine import make_url


class _Link:
    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.client = client
        self.server = server
        self.drop_next_reply = False
        self.closed = False

    def close(self) -> None:
        self.closed = True
        for sock in (self.client, self.server):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class FaultProxy:
    """Forward 127.0.0.1:<port> to ``target_host:target_port`` with injectable faults."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port: int = self._listener.getsockname()[1]
        self._links: list[_Link] = []
        self._lock = threading.Lock()
        self._running = threading.Event()  # set: bytes flow
        self._running.set()
        self._refusing = False
        self._pause_pattern: bytes | None = None
        self._drop_pattern: bytes | None = None
        self._drops_left = 0
        self._refuse_after_drop = False
        self.replies_dropped = 0
        self._closed = False
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)
        self._acceptor.start()

    @classmethod
    def for_url(cls, url: str) -> FaultProxy:
        """A proxy in front of the server of the SQLAlchemy ``url``."""
        parsed = make_url(url)
        default_port = 5432 if parsed.get_backend_name() == "postgresql" else 3306
        return cls(parsed.host or "127.0.0.1", parsed.port or default_port)

    def url(self, url: str) -> str:
        """``url`` with its host and port replaced by the proxy's."""
        parsed = make_url(url).set(host="127.0.0.1", port=self.port)
        return parsed.render_as_string(hide_password=False)

    # -- faults ---------------------------------------------------------------------------
    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._pause_pattern = None
        self._running.set()

    def pause_on(self, pattern: bytes) -> None:
        self._pause_pattern = pattern

    def drop_reply_to(self, pattern: bytes, times: int = 1, *, then_refuse: bool = False) -> None:
        """Drop the server's reply to each of the next ``times`` client chunks containing
        ``pattern`` (closing that connection); with ``then_refuse``, the server is down from
        the last drop on (see :meth:`refuse`)."""
        self._drop_pattern = pattern
        self._drops_left = times
        self._refuse_after_drop = then_refuse

    def cut(self) -> None:
        with self._lock:
            links, self._links = self._links, []
        for link in links:
            link.close()

    def refuse(self) -> None:
        with self._lock:
            self._refusing = True
        self.cut()

    def accept(self) -> None:
        self._refusing = False

    def close(self) -> None:
        """Stop forwarding and listening. The accept thread is woken (``shutdown``) and joined
        before this returns: left blocked, it could accept on a listening socket a later proxy
        got under the same file descriptor number, and let connections past that proxy."""
        self._closed = True
        self._running.set()
        self.cut()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._acceptor.join(timeout=10)
        self._listener.close()

    # -- forwarding -----------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._closed:
                client.close()
                return
            if self._refusing:
                client.close()
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            link = _Link(client, server)
            with self._lock:
                self._links.append(link)
            if self._refusing:  # refuse() ran between the check above and the append
                self.cut()
                continue
            threading.Thread(target=self._pump, args=(link, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(link, False), daemon=True).start()

    def _pump(self, link: _Link, upstream: bool) -> None:
        source, sink = (link.client, link.server) if upstream else (link.server, link.client)
        try:
            while not link.closed:
                ready, _, _ = select.select([source], [], [], 0.05)
                if not ready:
                    continue
                self._running.wait()
                data = source.recv(65536)
                if not data:
                    break
                if upstream:
                    self._inspect(link, data)
                    self._running.wait()
                elif link.drop_next_reply:  # the server answered the marked chunk
                    self.replies_dropped += 1
                    if self._drops_left == 0 and self._refuse_after_drop:
                        self.refuse()
                    link.close()
                    return
                sink.sendall(data)
        except OSError:
            pass
        link.close()

    def _inspect(self, link: _Link, data: bytes) -> None:
        if self._pause_pattern is not None and self._pause_pattern in data:
            self._pause_pattern = None
            self._running.clear()
        if self._drops_left > 0 and self._drop_pattern is not None and self._drop_pattern in data:
            self._drops_left -= 1
            link.drop_next_reply = True


def commit_statement(url: str) -> bytes:
    """The bytes on the wire of ``url``'s server that only a client's ``COMMIT`` statement
    holds, for `FaultProxy.drop_reply_to` and `FaultProxy.pause_on`: PostgreSQL ends a query's
    text with NUL, MySQL's COM_QUERY puts its command byte 0x03 before it. A statement that
    merely names the word (``ON COMMIT DELETE ROWS``) does not match."""
    return b"COMMIT\x00" if make_url(url).get_backend_name() == "postgresql" else b"\x03COMMIT"


def wait_until(condition: Any, timeout: float = 10.0) -> bool:
    """Poll ``condition()`` every 20 ms until it is true or ``timeout`` seconds passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())
