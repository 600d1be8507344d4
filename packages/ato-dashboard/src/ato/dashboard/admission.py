"""What a request must be for the dashboard to answer it: addressed to this server by a name
it expects (``Host``), sent by the dashboard's own pages or typed by a person (not by a page of
another site), and with parameters inside their bounds. Every check fails with a 4xx
``DashboardError`` naming the parameter and what to send instead, never a traceback.

Cross-origin requests are recognised by the headers browsers add and pages cannot forge:
``Sec-Fetch-Site`` (anything but ``same-origin`` or ``none`` - a typed URL or bookmark) and
``Origin`` (when present, it must be this server). A link from another site to one of the
dashboard's pages still opens it (a top-level navigation); the JSON endpoints, which do the
work, answer only the dashboard's own pages and non-browser clients (``curl``, scripts).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from .errors import BadRequestError, ForbiddenError, NotFoundError

#: The largest number of points one series request may ask for.
MAX_POINTS_LIMIT = 10_000
#: The largest run id: ``experiments.id`` is an SQL INTEGER, 32-bit on PostgreSQL and MariaDB
#: (a larger number there is an out-of-range error, not "no such run").
MAX_RUN_ID = 2**31 - 1
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
WILDCARDS = ("0.0.0.0", "::", "")  # noqa: S104 - recognises the wildcard, binds nothing
_DIGITS = re.compile(
    r"[0-9]{1,19}"
)  # then compared with a limit  # ASCII only: str.isdigit() also accepts '²' and '٣'
_SHOWN = 40  # characters of a bad value repeated in a message


def allowed_hosts(host: str, extra: Iterable[str] = ()) -> list[str]:
    """The ``Host`` names requests may use: the loopback names, the bound address and
    ``extra``. Bound to every interface (``0.0.0.0``/``::``), the bound address is this
    machine's host name, its fully qualified name and their addresses instead - never any
    name, which would let a DNS-rebinding page read the dashboard."""
    names = set(LOOPBACK_NAMES)
    if host in WILDCARDS:
        names.update(_machine_names())
    else:
        names.add(host)
    names.update(name.strip().lower() for name in extra if name.strip())
    return sorted(f"[{name}]" if ":" in name else name for name in names)


def _machine_names() -> set[str]:
    names = {socket.gethostname().lower(), socket.getfqdn().lower()}
    for name in list(names):
        try:
            infos = socket.getaddrinfo(name, None)
        except OSError:  # a host name that does not resolve: only the name itself
            continue
        names.update(str(info[4][0]).split("%")[0] for info in infos)
    return {name for name in names if name}


def check_same_origin(headers: Mapping[str, str], path: str) -> None:
    """Refuse a request sent by a page of another site (see the module docstring).

    Raises:
        ForbiddenError: ``Sec-Fetch-Site`` is ``cross-site``/``same-site`` (other than a
            navigation to an HTML page), or ``Origin`` names another server.
    """
    site = headers.get("sec-fetch-site", "none").lower()
    navigation = headers.get("sec-fetch-mode", "").lower() == "navigate"
    if site not in ("same-origin", "none") and not (navigation and not path.startswith("/api/")):
        raise ForbiddenError(
            f"a page of another site asked for {path}; the dashboard answers only its own "
            "pages (open it from its address instead)"
        )
    origin = headers.get("origin")
    if origin is not None and urlsplit(origin).netloc.lower() != headers.get("host", "").lower():
        raise ForbiddenError(
            f"a page of {_shown(origin)} asked for {path}; the dashboard answers only its own pages"
        )


def check_text(params: Iterable[tuple[str, str]]) -> None:
    """Refuse text parameters holding a NUL character (no name in the database has one, and
    PostgreSQL cannot even compare with one).

    Raises:
        BadRequestError: naming the parameter.
    """
    for name, value in params:
        if "\x00" in value:
            raise BadRequestError(
                f"{name} holds a NUL character (\\x00), which no stored name has: {_shown(value)!r}"
            )


def is_run_id(text: str) -> bool:
    """True for ASCII digits up to ``MAX_RUN_ID``: text that can name a run."""
    return _DIGITS.fullmatch(text) is not None and int(text) <= MAX_RUN_ID


def run_id(text: str) -> int:
    """The run id in a URL path.

    Raises:
        NotFoundError: not a run id (`is_run_id`): no run can have it.
    """
    if not is_run_id(text):
        raise NotFoundError(f"no run with id {_shown(text)}: run ids are whole numbers below 2^31")
    return int(text)


def int_param(text: str | None, name: str, default: int, low: int, high: int) -> int:
    """A whole-number query parameter in ``[low, high]`` (``default`` when absent or empty).

    Raises:
        BadRequestError: not ASCII digits, or outside ``[low, high]`` (the message gives both).
    """
    if text is None or text == "":
        return default
    if not _DIGITS.fullmatch(text) or not low <= int(text) <= high:
        raise BadRequestError(
            f"{name} must be a whole number (ASCII digits) at least {low:,} and at most "
            f"{high:,}, got {_shown(text)!r}"
        )
    return int(text)


def step_param(text: str | None, name: str) -> int | None:
    """An optional metric step (a signed 64-bit whole number, as ``metrics.step`` holds):
    ``None`` when absent or empty.

    Raises:
        BadRequestError: not an optional ``-`` and ASCII digits, or outside the 64-bit range.
    """
    if text is None or text == "":
        return None
    digits = text[1:] if text.startswith("-") else text
    if not _DIGITS.fullmatch(digits) or not -(2**63) <= int(text) < 2**63:
        raise BadRequestError(
            f"{name} must be a whole number (ASCII digits, optionally after '-') within the "
            f"64-bit range of steps, got {_shown(text)!r}"
        )
    return int(text)


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN else f"{text[:_SHOWN]}... ({len(text):,} characters)"
