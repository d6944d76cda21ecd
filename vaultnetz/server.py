"""The feed over HTTP: a small WSGI app behind a secret token, served by waitress.

Routes (GET and HEAD): ``/<token>/vaultnetz.ics``, ``/<token>/tag/<tag>.ics`` and
``/<token>/``, a page to subscribe from. Anything else, a wrong token included,
is a plain 404; the token is compared in constant time and never logged.
"""

from __future__ import annotations

import functools
import hmac
import html
import io
import logging
import os
import secrets
import stat
import string
from collections.abc import Callable, Iterable
from datetime import UTC
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .actionpage import ActionPages, check_in_link, read_form
from .errors import InvalidValue
from .report import printable, strip_controls, why_now
from .watch import FeedService, Snapshot

log = logging.getLogger("vaultnetz.server")

StartResponse = Callable[..., Any]
MIN_TOKEN_LENGTH = 32


_TOKEN_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-_")


def load_or_create_token(config_dir: Path) -> str:
    """The token kept in the user config folder (folder 0700, file 0600), created once.

    A folder or file that others may read is a warning (logged): the token is the
    only secret between the feed and anyone who can reach the port.
    """
    path = config_dir / "token"
    try:
        token = path.read_text(encoding="utf-8").strip()
        if len(token) >= MIN_TOKEN_LENGTH and set(token) <= _TOKEN_CHARACTERS:
            _warn_if_open(config_dir, 0o700)
            _warn_if_open(path, 0o600)
            return token
    except FileNotFoundError:
        pass
    config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _warn_if_open(config_dir, 0o700)
    token = secrets.token_urlsafe(32)  # 32 random bytes
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    os.chmod(path, 0o600)
    return token


def _warn_if_open(path: Path, wanted: int) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & ~wanted & 0o077:
        log.warning("%s can be read by other users (mode %04o): anyone who reads the token "
                    "can read your feed; run: chmod %o %s", path, mode, wanted, path)


def check_token(token: str) -> str:
    token = token.strip()
    if len(token) < MIN_TOKEN_LENGTH or not set(token) <= _TOKEN_CHARACTERS:
        raise InvalidValue(
            f"the token must be at least {MIN_TOKEN_LENGTH} characters of the ASCII letters, "
            "digits, '-' and '_' (it stands in URLs)", "leave --token out to use a generated one")
    return token


class FeedApp:
    """The WSGI application."""

    def __init__(self, service: FeedService, token: str, *,
                 timer: Callable[[], float] | None = None, behind_proxy: bool = False) -> None:
        # timer: a monotonic clock for the action pages' one-minute repeat check.
        self.service = service
        self.token = token.encode("ascii")
        self.behind_proxy = behind_proxy
        self.actions = ActionPages(service, self.token, f"/{token}/",
                                   timer if timer is not None else (lambda: 0.0))
        self._pages: tuple[Snapshot, tuple[object, ...], bytes] | None = None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        status, headers, body = self.handle(environ)
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        shown = path.replace(self.token.decode(), "<token>", 1)
        log.info("%s %s %s", printable(method), printable(shown), status.split()[0])
        start_response(status, headers)
        return [] if method == "HEAD" else [body]

    def _action(self, environ: dict[str, Any], method: str, cid: str
                ) -> tuple[str, list[tuple[str, str]], bytes]:
        """A check-in's action page: GET shows it, only POST writes."""
        if method not in ("GET", "HEAD", "POST"):
            status, headers, body = _plain("405 Method Not Allowed", b"Method Not Allowed\n")
            return status, [*headers, ("Allow", "GET, HEAD, POST")], body
        snapshot = self.service.snapshot
        if snapshot is None:
            return _plain("503 Service Unavailable", b"The feed is being built; retry.\n")
        contact = self.actions.find(snapshot, cid)
        if contact is None:
            return _plain("404 Not Found", b"Not Found\n")
        if method == "POST":
            return self.actions.act(snapshot, contact, read_form(environ))
        return self.actions.page(snapshot, contact)

    def _page(self, snapshot: Snapshot, environ: dict[str, Any]) -> bytes:
        """The page, made once per snapshot and address (it costs milliseconds: QR code)."""
        key = (environ.get("HTTP_HOST"), environ.get("SERVER_NAME"),
               environ.get("SERVER_PORT"), environ.get("wsgi.url_scheme"))
        cached = self._pages
        if cached is not None and cached[0] is snapshot and cached[1] == key:
            return cached[2]
        body = page(snapshot, environ, self.token.decode(), self.service, self.behind_proxy)
        self._pages = (snapshot, key, body)
        return body

    def handle(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        # PATH_INFO is already %-decoded by the server, as latin-1 text of the raw bytes.
        raw = environ.get("PATH_INFO", "").encode("latin-1", "replace")
        parts = raw.split(b"/")
        if len(parts) < 3 or parts[0] != b"" or not hmac.compare_digest(parts[1], self.token):
            return _plain("404 Not Found", b"Not Found\n")
        rest = [p.decode("utf-8", "replace") for p in parts[2:]]
        route = None
        if rest == ["vaultnetz.ics"]:
            route = ("feed", "")
        elif len(rest) == 2 and rest[0] == "tag" and rest[1].endswith(".ics") and rest[1] != ".ics":
            route = ("tag", rest[1][:-4])  # already %-decoded by the server
        elif rest == [""]:
            route = ("page", "")
        elif len(rest) == 2 and rest[0] == "c" and rest[1]:
            route = ("action", rest[1])
        if route is None:
            return _plain("404 Not Found", b"Not Found\n")
        method = environ.get("REQUEST_METHOD", "GET")
        if route[0] == "action":
            return self._action(environ, method, route[1])
        if method not in ("GET", "HEAD"):
            status, headers, body = _plain("405 Method Not Allowed", b"Method Not Allowed\n")
            return status, [*headers, ("Allow", "GET, HEAD")], body
        snapshot = self.service.snapshot
        if snapshot is None:
            return _plain("503 Service Unavailable", b"The feed is being built; retry.\n")
        kind, tag = route
        if kind == "page":
            body = self._page(snapshot, environ)
            return "200 OK", [("Content-Type", "text/html; charset=utf-8"),
                              ("Content-Length", str(len(body))),
                              ("Cache-Control", "private, no-store"),
                              ("Referrer-Policy", "no-referrer"),
                              ("X-Content-Type-Options", "nosniff"),
                              ("Content-Security-Policy",
                               "default-src 'none'; img-src data:; style-src 'unsafe-inline'")
                              ], body
        if kind == "tag":
            found = self.service.tag_feed(tag)
            if found is None:
                return _plain("404 Not Found", b"Not Found\n")
            data, etag = found
        else:
            data, etag = snapshot.feed, snapshot.etag
        headers = [
            ("Content-Type", "text/calendar; charset=utf-8"),
            ("ETag", etag),
            ("Last-Modified", format_datetime(snapshot.last_modified.astimezone(UTC),
                                              usegmt=True)),
            ("Cache-Control", "private"),
            ("X-Content-Type-Options", "nosniff"),
        ]
        if _not_modified(environ, etag, snapshot):
            return "304 Not Modified", headers, b""
        return "200 OK", [*headers, ("Content-Length", str(len(data)))], data


def _not_modified(environ: dict[str, Any], etag: str, snapshot: Snapshot) -> bool:
    match = environ.get("HTTP_IF_NONE_MATCH")
    if match is not None:
        tags = [t.strip() for t in match.split(",")]
        return "*" in tags or etag in tags or f"W/{etag}" in tags
    since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if since:
        try:
            when = parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        if when.tzinfo is None:
            return False
        return snapshot.last_modified.replace(microsecond=0) <= when
    return False


def _plain(status: str, body: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    return status, [("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(body))),
                    ("Cache-Control", "no-store")], body


@functools.lru_cache(maxsize=16)
def _qr_svg(text: str) -> str:
    """The subscribe link as an inline SVG QR code (scanned by a phone's camera)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode("utf-8")
    return svg[svg.index("<svg"):]


def _h(text: str) -> str:
    """Text from notes for the page: HTML-escaped, without control characters."""
    return html.escape(strip_controls(text))


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def page(snapshot: Snapshot, environ: dict[str, Any], token: str, service: FeedService,
         behind_proxy: bool = False) -> bytes:
    """The page to subscribe from, with today's check-ins and those of the coming seven
    days, each linking to its action page. Readable on a phone."""
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
    scheme = environ.get("wsgi.url_scheme", "http")
    feed_path = f"/{token}/vaultnetz.ics"
    http_url = f"{scheme}://{host}{feed_path}"
    webcal = f"webcal://{host}{feed_path}"
    vault, plan = snapshot.vault, snapshot.plan
    config = vault.config
    today = plan.today
    base = f"/{token}/"

    def items(check_ins: Iterable[Any]) -> str:
        rows = []
        for c in check_ins:
            rows.append(f'<li><a href="{check_in_link(base, c)}"><strong>'
                        f"{_h(c.contact.name)}</strong></a> "
                        f"<span class=d>{c.due.isoformat()}</span><br>"
                        f"<small>{_h(why_now(c, config))}</small></li>")
        return "\n".join(rows) or "<li>Nothing due.</li>"

    todays = [c for c in plan.check_ins if c.due == today]
    week_end = today.fromordinal(today.toordinal() + 7)
    week = [c for c in plan.check_ins if today < c.due <= week_end]
    tags = sorted({t for c in vault.contacts for t in c.tags if t.casefold() != "person"},
                  key=str.casefold)
    tag_links = " ".join(
        f'<a href="/{token}/tag/{quote(t)}.ics">{_h(t)}</a>' for t in tags)
    problems = len(vault.errors())
    warning = ""
    if problems:
        verb = "is" if problems == 1 else "are"
        warning = (f"<p class=warn>{_plural(problems, 'note has', 'notes have')} errors and "
                   f"{verb} skipped or kept at the last good state; run "
                   "<code>vaultnetz check</code>.</p>")
    # https:// only where it can work: behind a reverse proxy that speaks it.
    https_link = (f'<a href="{_h(f"https://{host}{feed_path}")}">https://</a>'
                  if behind_proxy and scheme == "https" else "")
    text = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{_h(config.calendar_name)}</title>
<style>
*{{box-sizing:border-box}}
body{{font-family:system-ui,sans-serif;max-width:46rem;margin:0 auto;padding:1rem;
color:#222;line-height:1.45;overflow-wrap:anywhere}}
h1{{font-size:1.4rem}} li{{margin:.5rem 0}} .d{{color:#666}} .warn{{color:#a40}}
.sub a{{display:inline-block;margin:.2rem .6rem .2rem 0}}
svg{{width:11rem;height:11rem;max-width:100%}}
code{{background:#f3f3f3;padding:0 .2rem;word-break:break-all}}
</style></head><body>
<h1>{_h(config.calendar_name)}</h1>
<p>{_plural(len(plan.check_ins), "check-in", "check-ins")} scheduled for
{_plural(len(vault.contacts), "contact", "contacts")}; today is {today.isoformat()}.</p>
{warning}
<h2>Today</h2><ul>{items(todays)}</ul>
<h2>The coming seven days</h2><ul>{items(week)}</ul>
<h2>Subscribe</h2>
<p class=sub><a href="{_h(webcal)}">webcal:// (Apple Calendar, Thunderbird)</a>
{https_link}
<a href="{_h(http_url)}">{_h(scheme)}:// (this address)</a></p>
<p>Feed address: <code>{_h(http_url)}</code></p>
<p>On a phone, scan:</p>
{_qr_svg(webcal)}
<p>Per tag: {tag_links or "no tags yet"}</p>
<p><small>The address is a secret: anyone who has it can read the feed.</small></p>
</body></html>
"""
    return text.encode("utf-8")


def serve(app: FeedApp, host: str, port: int, *, on_ready: Callable[[str, int], None],
          behind_proxy: bool = False) -> None:
    """Run waitress: bounded request sizes, timeouts, threads; blocks until stopped.

    ``behind_proxy``: trust X-Forwarded-Proto/-Host from a reverse proxy on this
    machine, so the page offers the proxy's https:// address.
    """
    from waitress.server import create_server

    proxy: dict[str, Any] = {}
    if behind_proxy:
        proxy = {"trusted_proxy": "127.0.0.1", "trusted_proxy_count": 1,
                 "trusted_proxy_headers": {"x-forwarded-proto", "x-forwarded-host"},
                 "clear_untrusted_proxy_headers": True}
    server = create_server(
        app,
        host=host,
        port=port,
        threads=8,
        channel_timeout=IDLE_TIMEOUT,
        cleanup_interval=1,
        connection_limit=CONNECTION_LIMIT,
        max_request_header_size=16 * 1024,
        max_request_body_size=16 * 1024,
        expose_tracebacks=False,
        ident="vaultnetz",
        asyncore_use_poll=True,
        **proxy,
    )
    _bound_requests(server)
    bound_host, bound_port = server.socket.getsockname()[:2]
    on_ready(str(bound_host), int(bound_port))
    server.run()


# Slow clients: waitress closes a connection idle for IDLE_TIMEOUT seconds, but one that
# sends a header line now and then is never idle. A request must also arrive whole within
# REQUEST_DEADLINE seconds of its first byte. Many slow connections cannot lock others out
# either: the limit is far above what one person's calendars open.
IDLE_TIMEOUT = 15
REQUEST_DEADLINE = 10
CONNECTION_LIMIT = 500


def _bound_requests(server: Any) -> None:
    """Give ``server`` (waitress) the request deadline: its channels note when a request
    began (by waitress's own clock), and its maintenance closes those too slow to arrive."""
    from waitress.channel import HTTPChannel

    class Channel(HTTPChannel):  # type: ignore[misc]
        request_began = 0.0

        def received(self, data: bytes) -> bool:
            if self.request is None:
                self.request_began = self.last_activity  # set by waitress just before
            return bool(super().received(data))

    maintenance = server.maintenance

    def bounded(now: float) -> None:
        maintenance(now)
        for channel in list(server.active_channels.values()):
            if (channel.request is not None and not channel.requests
                    and now - getattr(channel, "request_began", now) > REQUEST_DEADLINE):
                channel.will_close = True

    server.channel_class = Channel
    server.maintenance = bounded
