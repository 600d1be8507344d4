"""Every request is bounded and checked before it costs anything (issue 29, item 10): capped
``max_points``, ids and names validated (a 4xx with a clear message, never a 500), no
cross-origin requests, only expected ``Host`` names, and a deadline for each request head."""

from __future__ import annotations

import logging
import socket
import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from ato.dashboard import admission, create_app, serving

BASE = "http://127.0.0.1"


def client(url: str, **options: Any) -> TestClient:
    return TestClient(create_app(url, **options), base_url=BASE, raise_server_exceptions=False)


@pytest.fixture
def api(filled: Any) -> tuple[Any, TestClient]:
    return filled, client(filled.url)


def _refused(response: Any, status: int, text: str) -> None:
    assert response.status_code == status, response.text
    assert text in response.text and "Traceback" not in response.text


@pytest.mark.parametrize(
    ("path", "status", "text"),
    [
        ("/api/runs/2147483648", 404, "below 2^31"),  # 2^31: beyond an SQL INTEGER
        ("/api/runs/9223372036854775808", 404, "below 2^31"),  # 2^63: beyond a BIGINT
        ("/api/runs/99999999999999999999", 404, "below 2^31"),
        ("/api/runs/" + "9" * 5000, 404, "5,000 characters"),
        ("/api/runs/\u0661\u0662", 404, "below 2^31"),  # Arabic-Indic digits
        ("/api/runs/2147483647", 404, "no run with id 2147483647"),
        ("/api/runs/9223372036854775808/metrics/loss", 404, "below 2^31"),
        ("/runs/" + "9" * 5000, 404, "below 2^31"),
        ("/api/compare?runs=1,9223372036854775808", 400, "below 2^31"),
        ("/api/compare?runs=1," + "9" * 5000, 400, "below 2^31"),
        ("/api/compare?runs=1,\u00b2", 400, "below 2^31"),
        ("/api/compare?runs=" + ",".join(map(str, range(1, 5000))), 400, "at most 100"),
    ],
)
def test_ids_beyond_a_bigint_are_4xx_with_a_message(
    api: tuple[Any, TestClient], caplog: Any, path: str, status: int, text: str
) -> None:
    _, c = api
    with caplog.at_level(logging.ERROR, logger="ato.dashboard"):
        _refused(c.get(path), status, text)
    assert not caplog.records  # nothing was logged as an unexpected error


@pytest.mark.parametrize(
    "value",
    ["1000000000", "10001", "9" * 5000, "\u00b2", "\u0661\u0662", "1e3", "-5", "3", " 10"],
)
def test_max_points_is_capped_and_validated(api: tuple[Any, TestClient], value: str) -> None:
    filled, c = api
    url = f"/api/runs/{filled.runs['fast']}/metrics/loss"
    _refused(c.get(url, params={"max_points": value}), 400, "at most 10,000")
    assert c.get(url, params={"max_points": "10000"}).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/api/projects/vi%00sion/runs",
        "/api/projects/vision/runs?tag=a%00",
        "/api/projects/vision/runs?status=%00",
        "/api/runs/1/metrics/lo%00ss",
        "/api/searches/s%00",
        "/api/searches/s?metric=%00",
        "/projects/vi%00sion",
        "/searches/s%00",
        "/compare?runs=1%00",
    ],
)
def test_a_nul_in_a_name_is_a_400(api: tuple[Any, TestClient], caplog: Any, path: str) -> None:
    _, c = api
    with caplog.at_level(logging.ERROR, logger="ato.dashboard"):
        _refused(c.get(path), 400, "NUL")
    assert not caplog.records


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"},  # <img src=...>
        {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "cors"},  # another port of localhost
        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"},  # a link to the JSON
        {"Origin": "http://evil.example"},
        {"Origin": "http://127.0.0.1:9999"},
        {"Origin": "null"},
    ],
)
def test_cross_origin_requests_are_refused(api: tuple[Any, TestClient], headers: dict) -> None:
    _, c = api
    _refused(c.get("/api/projects", headers=headers), 403, "its own pages")


@pytest.mark.parametrize(
    "headers",
    [
        {},  # curl, scripts
        {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"},  # the dashboard's pages
        {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate"},  # a typed URL, a bookmark
        {"Origin": BASE},
    ],
)
def test_own_pages_and_plain_clients_are_answered(api: tuple[Any, TestClient], headers: dict):
    _, c = api
    assert c.get("/api/projects", headers=headers).status_code == 200


def test_a_link_from_another_site_still_opens_a_page(api: tuple[Any, TestClient]) -> None:
    _, c = api
    link = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
    assert c.get("/projects/vision", headers=link).status_code == 200
    _refused(c.get("/projects/vision", headers={"Sec-Fetch-Site": "cross-site"}), 403, "site")


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])  # noqa: S104 - names it, binds nothing
def test_a_wildcard_bind_answers_only_this_machines_names(sqlite_url: str, host: str) -> None:
    allowed = admission.allowed_hosts(host)
    assert "*" not in allowed and "localhost" in allowed
    assert socket.gethostname().lower() in allowed
    for name in ("evil.example", "attacker.test", "10.0.0.99.nip.io"):
        c = TestClient(create_app(sqlite_url, host=host), base_url=f"http://{name}:8765")
        assert c.get("/api/projects").status_code == 400
    for name in ("localhost", "127.0.0.1", "[::1]", socket.gethostname()):
        c = TestClient(create_app(sqlite_url, host=host), base_url=f"http://{name}:8765")
        assert c.get("/api/projects").status_code != 400


def test_more_host_names_can_be_allowed(sqlite_url: str) -> None:
    app = create_app(sqlite_url, host="0.0.0.0", allow_hosts=["Dash.Example.org"])  # noqa: S104
    proxied = TestClient(app, base_url="http://dash.example.org")
    assert proxied.get("/api/projects").status_code != 400
    assert TestClient(app, base_url="http://other.example").get("/api/projects").status_code == 400


def test_the_wildcard_warning_says_which_hosts_are_answered() -> None:
    from ato.dashboard.cli import exposure_warning

    text = exposure_warning("0.0.0.0", admission.allowed_hosts("0.0.0.0"))  # noqa: S104
    assert "no authentication" in text and "Host header" in text and "--allow-host" in text
    assert "localhost" in text


# -- the server closes connections that do not send a request head in time ------------------
def _closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    return True


def _closed_while_dripping(port: int) -> bool:
    """Send a request head one byte every 50 ms, for at most 10 s; True if the server closed."""
    sock = socket.create_connection(("127.0.0.1", port))
    try:
        for byte in b"GET /api/projects HTTP/1.1\r\n" + b"X-Slow: " + b"a" * 200:
            sock.sendall(bytes([byte]))
            time.sleep(0.05)
    except ConnectionError:
        return True
    finally:
        sock.close()
    return False


def test_half_open_connections_are_closed_after_the_header_timeout(
    sqlite_url: str, kit: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(serving, "HEADER_TIMEOUT_S", 0.5)
    kit.fill(sqlite_url)
    server = kit.start_server(sqlite_url)
    port = int(server.base.rsplit(":", 1)[1])
    try:
        silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
        partial = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
        for sock in partial:
            sock.sendall(b"GET /api/projects HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        assert _closed_while_dripping(port)
        assert all(_closed_within(sock, 5.0) for sock in [*silent, *partial])
        answered = socket.create_connection(("127.0.0.1", port))
        answered.sendall(b"GET /api/projects HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert answered.recv(4096).startswith(b"HTTP/1.1 200")
        answered.sendall(b"GET /api/projects HTTP/1.1\r\n")  # the next head never completes
        assert _closed_within(answered, 5.0)
    finally:
        server.server.should_exit = True
