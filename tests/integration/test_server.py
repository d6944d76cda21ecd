"""`vaultnetz serve` in a real process on 127.0.0.1, hit with real HTTP requests."""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import icalendar
import pytest

from conftest import REPO, contact_note

TOKEN = "t" * 20 + "0123456789abcdefghijKLMNOP"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    token: str

    def request(self, path: str, method: str = "GET", headers: dict[str, str] | None = None,
                body: str | None = None) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, \
                response.read()
        finally:
            conn.close()

    def feed(self) -> str:
        return f"/{self.token}/vaultnetz.ics"


def start(vault: Path, tmp_path: Path, *args: str, env_extra: dict[str, str] | None = None,
          port: int | None = None) -> Server:
    port = port or free_port()
    tmp_path.mkdir(parents=True, exist_ok=True)
    log = tmp_path / "serve.log"
    env = {**os.environ, "VAULTNETZ_CONFIG_DIR": str(tmp_path / "config"),
           "VAULTNETZ_CACHE_DIR": str(tmp_path / "cache"), **(env_extra or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "vaultnetz", "--vault", str(vault), "--today", "2026-11-23",
         "serve", "--port", str(port), *args],
        stdout=subprocess.DEVNULL, stderr=open(log, "wb"), env=env)  # noqa: SIM115
    # Ready when the server has printed its URLs (it listens a moment before that).
    deadline = time.monotonic() + 20
    while "page: http" not in log.read_text():
        if process.poll() is not None:
            raise AssertionError(f"serve exited: {log.read_text()}")
        assert time.monotonic() < deadline, f"serve did not start: {log.read_text()}"
        time.sleep(0.05)
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    token = next(line.split("/")[3] for line in log.read_text().splitlines()
                 if "page: http" in line)
    return Server(port, process, log, token)


@pytest.fixture
def vault(make_vault) -> Path:
    return make_vault({
        "People/Anna.md": contact_note("last_contact: 2026-10-01\ntags: [person, press]"),
        "People/Bo.md": contact_note("last_contact: 2026-01-01\ntags: [person, science]"),
        "People/Cleo.md": contact_note("last_contact: 2026-11-20\ntags: [person, köln]"),
    })


@contextlib.contextmanager
def serving(vault: Path, tmp_path: Path, *args: str) -> Iterator[Server]:
    """A real `vaultnetz serve` on the vault, stopped afterwards."""
    running = start(vault, tmp_path, *args)
    try:
        yield running
    finally:
        running.process.terminate()
        running.process.wait(timeout=10)


@pytest.fixture
def server(vault: Path, tmp_path: Path) -> Iterator[Server]:
    with serving(vault, tmp_path, "--token", TOKEN) as running:
        yield running


def test_feed_head_and_conditional_requests(server: Server) -> None:
    status, headers, body = server.request(server.feed())
    assert status == 200
    assert headers["content-type"] == "text/calendar; charset=utf-8"
    assert headers["cache-control"] == "private"
    assert headers["etag"].startswith('"') and not headers["etag"].startswith("W/")
    assert "last-modified" in headers
    assert int(headers["content-length"]) == len(body)
    calendar = icalendar.Calendar.from_ical(body)
    assert len(calendar.walk("VEVENT")) == 3
    head_status, head_headers, head_body = server.request(server.feed(), "HEAD")
    assert (head_status, head_body) == (200, b"")
    assert head_headers["etag"] == headers["etag"]
    assert head_headers["content-length"] == headers["content-length"]
    status, _, body = server.request(server.feed(), headers={"If-None-Match": headers["etag"]})
    assert (status, body) == (304, b"")
    status, _, _ = server.request(server.feed(), headers={"If-None-Match": '"other"'})
    assert status == 200


@pytest.mark.parametrize(
    "path",
    [
        "/wrong-token/vaultnetz.ics",
        f"/{TOKEN[:-1]}/vaultnetz.ics",
        f"/{TOKEN}x/vaultnetz.ics",
        "/",
        "/vaultnetz.ics",
        f"/{TOKEN}",
        f"/{TOKEN}/../{TOKEN}/vaultnetz.ics",
        f"/{TOKEN}/%2e%2e/vaultnetz.ics",
        f"/{TOKEN}/tag/../../etc/passwd.ics",
        f"/{TOKEN}/tag/%2e%2e%2fsecret.ics",
        f"/{TOKEN}/other.ics",
        f"/{TOKEN}/tag/.ics",
        f"/{TOKEN}/vaultnetz.ics/",
    ],
)
def test_anything_else_is_a_plain_404(server: Server, path: str) -> None:
    status, _, body = server.request(path)
    assert status == 404
    assert body == b"Not Found\n"
    assert TOKEN.encode() not in body


def test_per_tag_feed_and_page(server: Server) -> None:
    status, headers, body = server.request(f"/{TOKEN}/tag/press.ics")
    assert status == 200
    summaries = [str(e["summary"]) for e in icalendar.Calendar.from_ical(body).walk("VEVENT")]
    assert summaries == ["Check in with Anna"]
    status, _, body = server.request(f"/{TOKEN}/tag/k%C3%B6ln.ics")
    assert status == 200
    assert b"Check in with Cleo" in body
    status, _, body = server.request(f"/{TOKEN}/tag/k%25C3%25B6ln.ics")  # decoded once only
    assert status == 200
    assert b"BEGIN:VEVENT" not in body
    status, _, body = server.request(f"/{TOKEN}/tag/nosuchtag.ics")  # a tag nobody has (yet)
    assert status == 200
    assert b"X-WR-CALNAME:vaultnetz check-ins (nosuchtag)" in body
    assert b"BEGIN:VEVENT" not in body
    status, headers, page = server.request(f"/{TOKEN}/")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    text = page.decode()
    assert f"webcal://127.0.0.1:{server.port}/{TOKEN}/vaultnetz.ics" in text
    assert "<svg" in text and "Bo" in text


def test_other_methods_are_405(server: Server) -> None:
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        status, headers, _ = server.request(server.feed(), method)
        assert status == 405
        assert headers["allow"] == "GET, HEAD"


def test_an_edit_shows_within_a_second_and_etag_follows_content(server: Server, vault: Path
                                                                ) -> None:
    _, first, _ = server.request(server.feed())
    bo = vault / "People" / "Bo.md"
    os.utime(bo)  # touched, same content: the ETag stays
    time.sleep(0.6)
    assert server.request(server.feed())[1]["etag"] == first["etag"]
    start = time.monotonic()
    bo.write_text(bo.read_text().replace("2026-01-01", "2026-11-01"))
    while server.request(server.feed())[1]["etag"] == first["etag"]:
        assert time.monotonic() - start < 1.0, "the change did not show within 1 s"
        time.sleep(0.02)
    _, _, body = server.request(server.feed())
    assert b"DTSTART;VALUE=DATE:20270201" in body


def test_a_broken_note_does_not_break_the_feed(server: Server, vault: Path) -> None:
    (vault / "People" / "Anna.md").write_text("---\nlast_contact: [oops\n---\n")
    (vault / "People" / "Binary.md").write_bytes(b"\x00\x01\x02")
    time.sleep(0.8)
    status, _, body = server.request(server.feed())
    assert status == 200
    assert b"Check in with Anna" in body  # kept at its last good state
    assert b"Check in with Bo" in body


def test_many_sequential_and_parallel_requests(server: Server) -> None:
    for _ in range(200):
        assert server.request(server.feed())[0] == 200
    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(lambda _: server.request(server.feed())[0], range(20)))
    assert statuses == [200] * 20
    assert server.process.poll() is None


def test_log_never_shows_the_token(server: Server) -> None:
    server.request(server.feed())
    server.request("/wrong/vaultnetz.ics")
    time.sleep(0.2)
    text = server.log.read_text()
    assert "GET /<token>/vaultnetz.ics 200" in text
    lines = [line for line in text.splitlines() if "GET" in line]
    assert lines and all(TOKEN not in line for line in lines)


def test_generated_token_is_kept_0600_outside_the_vault(vault: Path, tmp_path: Path) -> None:
    running = start(vault, tmp_path)
    try:
        token_file = tmp_path / "config" / "token"
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        token = token_file.read_text().strip()
        assert len(token) >= 43  # 32 random bytes, base64url
        assert running.token == token
        assert running.request(f"/{token}/vaultnetz.ics")[0] == 200
        assert not any("token" in p.name for p in vault.rglob("*"))
    finally:
        running.process.terminate()
        running.process.wait(timeout=10)
    again = start(vault, tmp_path)  # the same token next time
    try:
        assert again.token == token
    finally:
        again.process.terminate()
        again.process.wait(timeout=10)


def test_short_token_is_refused(vault: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vaultnetz", "--vault", str(vault), "serve", "--token", "short"],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "VAULTNETZ_CONFIG_DIR": str(tmp_path / "c")})
    assert result.returncode == 1
    assert result.stderr.startswith("Error: the token must be at least 32 characters")


def test_page_renders_in_headless_chromium(server: Server, tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed (Debian package `chromium`)")
    artifacts = REPO / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    shot = artifacts / "subscribe-page.png"
    shot.unlink(missing_ok=True)
    result = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'chromium'}",
         f"--screenshot={shot}", "--window-size=900,1400",
         f"http://127.0.0.1:{server.port}/{TOKEN}/"],
        capture_output=True, text=True, timeout=120, check=False)
    assert shot.is_file(), result.stderr
    assert shot.stat().st_size > 10_000
    dom = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", f"--user-data-dir={tmp_path / 'chromium2'}",
         "--dump-dom", f"http://127.0.0.1:{server.port}/{TOKEN}/"],
        capture_output=True, text=True, timeout=120, check=False)
    assert "Subscribe" in dom.stdout
    assert "Bo" in dom.stdout


def raw_request(port: int, data: bytes) -> bytes:
    chunks = []
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)  # may be refused before it is all sent
        while True:
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 40_000 + b"\r\n\r\n",
        b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\nabc",
        b"GET /%zz%00 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS hello to a plain port
    ],
)
def test_bad_requests_never_stop_the_server(server: Server, request_bytes: bytes) -> None:
    answer = raw_request(server.port, request_bytes)
    assert TOKEN.encode() not in answer
    assert b"Traceback" not in answer
    if answer:
        status = int(answer.split(b" ", 2)[1])
        assert 400 <= status < 500
    assert server.request(server.feed())[0] == 200
    assert server.process.poll() is None


def test_a_slow_client_does_not_block_others(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as slow:
        slow.sendall(b"GET /" + TOKEN.encode() + b"/vaultnetz.ics HTTP/1.1\r\nHo")
        for _ in range(5):
            assert server.request(server.feed())[0] == 200


def test_no_directory_listing(server: Server) -> None:
    for path in (f"/{TOKEN}/tag/", f"/{TOKEN}/tag", f"/{TOKEN}//", f"/{TOKEN}/./"):
        status, _, body = server.request(path)
        assert status == 404, path
        assert body == b"Not Found\n"


def _events(server: Server) -> int:
    status, _, body = server.request(server.feed())
    assert status == 200
    return body.count(b"BEGIN:VEVENT")


def test_moving_the_vault_away_and_back_never_serves_a_worse_feed(
    server: Server, vault: Path, tmp_path: Path
) -> None:
    full = _events(server)
    assert full == 3
    away = tmp_path / "moved-away"
    for _ in range(2):
        vault.rename(away)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:  # the watcher sees it; the feed stays whole
            assert _events(server) == full
            time.sleep(0.05)
        away.rename(vault)
        deadline = time.monotonic() + 5
        while _events(server) != full:
            assert time.monotonic() < deadline, "the feed did not come back"
            time.sleep(0.05)
        # Back and watched again: an edit shows as before.
        note = vault / "People" / "Dora.md"
        note.write_text(contact_note("last_contact: 2026-09-01"))
        deadline = time.monotonic() + 5
        while _events(server) != full + 1:
            assert time.monotonic() < deadline, "edits after the return are not seen"
            time.sleep(0.05)
        note.unlink()
        while _events(server) != full:
            assert time.monotonic() < deadline + 5
            time.sleep(0.05)
    text = server.log.read_text()
    assert text.count("is gone or cannot be read") == 2  # once each time, not per event
    assert text.count("is back; reading it again") == 2


def test_an_unreadable_folder_keeps_its_contacts(vault: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """In process: the folder's contacts keep their last good state, with one log line."""
    import logging
    from datetime import datetime

    from vaultnetz.watch import FeedService

    service = FeedService(vault, lambda: datetime(2026, 11, 23, 12, tzinfo=UTC))
    before = service.rebuild().feed
    real_scandir = os.scandir

    def locked(path: object = ".") -> object:
        if str(path).endswith("People"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", locked)
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("vaultnetz").addHandler(handler)
    try:
        kept = service.rebuild()
        assert kept.feed.count(b"BEGIN:VEVENT") == before.count(b"BEGIN:VEVENT") == 3
        service.rebuild()
        assert sum("cannot read folder" in r for r in records) == 1
        monkeypatch.setattr(os, "scandir", real_scandir)
        assert service.rebuild().feed == before
        assert not service.index.stale
    finally:
        logging.getLogger("vaultnetz").removeHandler(handler)


def test_a_note_over_the_size_limit_keeps_its_last_good_state(make_vault) -> None:
    from datetime import datetime

    from vaultnetz.watch import FeedService

    root = make_vault({"vaultnetz.toml": "max_note_size = 400\n",
                       "People/Anna.md": contact_note("last_contact: 2026-10-01")})
    service = FeedService(root, lambda: datetime(2026, 11, 23, 12, tzinfo=UTC))
    before = service.rebuild().feed
    note = root / "People" / "Anna.md"
    note.write_text(note.read_text() + "x" * 500)
    after = service.rebuild({"People/Anna.md"})
    assert after.feed == before
    assert [p.code for p in service.index.stale["People/Anna.md"]] == ["too-large"]


def test_slow_connections_do_not_lock_out_a_normal_client(server: Server) -> None:
    """100 slowloris connections, each sending a header line now and then: a normal client
    is still served within a second, and the server closes them at its request deadline."""
    from vaultnetz.server import REQUEST_DEADLINE

    slow = []
    for i in range(100):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall(f"GET /{TOKEN}/vaultnetz.ics HTTP/1.1\r\nX-Slow-{i}: 1\r\n".encode())
        slow.append(sock)
    try:
        start_time = time.monotonic()
        closed: set[int] = set()
        while len(closed) < len(slow):
            began = time.monotonic()
            status, _, body = server.request(server.feed())
            assert status == 200 and body.count(b"BEGIN:VEVENT") == 3
            assert time.monotonic() - began < 1.0
            for i, sock in enumerate(slow):  # a header line every second keeps them busy
                if i in closed:
                    continue
                try:
                    sock.sendall(f"X-More-{i}: 1\r\n".encode())
                    sock.settimeout(0.001)
                    if sock.recv(1) == b"":
                        closed.add(i)
                except (BlockingIOError, TimeoutError):
                    pass
                except OSError:
                    closed.add(i)
            assert time.monotonic() - start_time < REQUEST_DEADLINE + 8, len(closed)
            time.sleep(0.5)
        assert time.monotonic() - start_time >= REQUEST_DEADLINE - 1
    finally:
        for sock in slow:
            sock.close()


def test_request_lines_are_logged_with_control_characters_escaped(server: Server) -> None:
    server.request("/x%0a02:00:00%20GET%20/forged%20200%1b[31m/vaultnetz.ics")
    time.sleep(0.2)
    lines = server.log.read_text().splitlines()
    assert not any(line.startswith("02:00:00 GET /forged") for line in lines)
    assert any("\\x0a02:00:00 GET /forged 200\\x1b[31m" in line for line in lines)
    assert "\x1b" not in server.log.read_text()


def test_the_token_is_printed_once_and_its_files_are_private(vault: Path, tmp_path: Path
                                                              ) -> None:
    config = tmp_path / "config"
    config.mkdir(mode=0o755)
    os.chmod(config, 0o755)
    (config / "token").write_text("k" * 43 + "\n")
    os.chmod(config / "token", 0o644)
    running = start(vault, tmp_path)
    try:
        text = running.log.read_text()
        assert text.count("k" * 43) == 1  # the page's address, once
        assert f"{config} can be read by other users (mode 0755)" in text
        assert f"{config / 'token'} can be read by other users (mode 0644)" in text
    finally:
        running.process.terminate()
        running.process.wait(timeout=10)
    fresh = tmp_path / "fresh"
    made = start(vault, tmp_path, env_extra={"VAULTNETZ_CONFIG_DIR": str(fresh / "vaultnetz")})
    try:
        assert stat.S_IMODE((fresh / "vaultnetz").stat().st_mode) == 0o700
        assert stat.S_IMODE((fresh / "vaultnetz" / "token").stat().st_mode) == 0o600
        assert "can be read by other users" not in made.log.read_text()
    finally:
        made.process.terminate()
        made.process.wait(timeout=10)


@pytest.mark.parametrize("token", ["ä" * 40, "a" * 39 + "/", "a" * 39 + "%", "a b" * 20])
def test_only_url_safe_ascii_tokens_are_accepted(token: str) -> None:
    from vaultnetz.errors import InvalidValue
    from vaultnetz.server import check_token

    with pytest.raises(InvalidValue, match="ASCII"):
        check_token(token)


def test_the_page_is_made_once_per_snapshot(vault: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    from datetime import datetime

    from vaultnetz import server as server_module
    from vaultnetz.watch import FeedService

    service = FeedService(vault, lambda: datetime(2026, 11, 23, 12, tzinfo=UTC))
    service.rebuild()
    app = server_module.FeedApp(service, TOKEN)
    made = []
    real_page = server_module.page
    monkeypatch.setattr(server_module, "page", lambda *a: made.append(1) or real_page(*a))
    environ = {"PATH_INFO": f"/{TOKEN}/", "REQUEST_METHOD": "GET", "HTTP_HOST": "h:1",
               "wsgi.url_scheme": "http"}
    first = app.handle(environ)
    assert app.handle(environ) == first and len(made) == 1
    service.rebuild({"People/Anna.md"})
    (vault / "People" / "Anna.md").write_text(contact_note("last_contact: 2026-11-01"))
    service.rebuild({"People/Anna.md"})
    app.handle(environ)
    assert len(made) == 2
