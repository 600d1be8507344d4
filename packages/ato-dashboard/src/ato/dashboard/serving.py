"""How uvicorn serves the dashboard: every connection bounded in time, size and number.

uvicorn closes a keep-alive connection idle for ``timeout_keep_alive`` seconds, but sets no
limit on the time a client may take to send a request's head: a connection that sends nothing,
or one header byte now and then, stays open for ever (200 of them were all still open after
30 s), each holding a socket and a slot. `HeaderTimeoutProtocol` closes a connection whose
request head is not complete ``HEADER_TIMEOUT_S`` after the connection opened or after its
previous response ended. Heads larger than ``MAX_HEAD_BYTES`` are refused by h11 (a 400), and
beyond ``MAX_CONNECTIONS`` connections uvicorn answers 503.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

#: Seconds a client has to send a complete request head.
HEADER_TIMEOUT_S = 10.0
#: Seconds an idle keep-alive connection stays open between requests.
KEEP_ALIVE_S = 5
#: Largest request head (request line and headers), in bytes.
MAX_HEAD_BYTES = 16 * 1024
#: Connections served at once; more get HTTP 503.
MAX_CONNECTIONS = 100


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request head (see the module)."""

    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch_head()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_head()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._unwatch_head()
        super().connection_lost(exc)

    def _watch_head(self) -> None:
        if self.conn.their_state is not h11.IDLE:  # a request head has arrived
            self._unwatch_head()
        elif self._head_timer is None and not self.transport.is_closing():
            self._head_timer = self.loop.call_later(HEADER_TIMEOUT_S, self._head_too_slow)

    def _unwatch_head(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def server_config(app: Any, host: str, port: int) -> uvicorn.Config:
    """The uvicorn configuration of the dashboard ``app`` on ``host``:``port``."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        http=HeaderTimeoutProtocol,
        timeout_keep_alive=KEEP_ALIVE_S,
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        limit_concurrency=MAX_CONNECTIONS,
    )
