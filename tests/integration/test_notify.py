"""The daily digest, delivered for real: to an SMTP server (aiosmtpd) and to an HTTP
receiver on 127.0.0.1, through apprise; once a day, also across restarts of `serve`."""

from __future__ import annotations

import email
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from test_server import TOKEN, start

from conftest import contact_note, run_cli


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 OK"

    def text(self, index: int = 0) -> str:
        for part in self.messages[index].walk():
            if part.get_content_type() == "text/plain":
                return part.get_payload(decode=True).decode(  # type: ignore[union-attr]
                    part.get_content_charset() or "utf-8")
        raise AssertionError("no text part")


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def mail_url(port: int) -> str:
    return f"mailto://127.0.0.1:{port}?from=vaultnetz@example.org&to=me@example.org&secure=no"


@pytest.fixture
def vault(make_vault) -> Path:
    return make_vault({
        ".obsidian/app.json": "{}",
        "People/Anna Berger.md": contact_note("last_contact: 2026-07-01\ncadence: 3m"),
        "People/Bo.md": contact_note("last_contact: 2026-06-01\ncadence: 3m"),
        "People/Cleo.md": contact_note("last_contact: 2026-11-20\ncadence: 6m"),
    })


def configure(vault: Path, text: str) -> None:
    (vault / "vaultnetz.toml").write_text(text)


def test_notify_delivers_one_message_with_a_working_link_per_check_in(
    vault: Path, tmp_path: Path, smtp: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, smtp_port = smtp
    port = free_port()
    # notify_at "": `serve` (here for the action pages) sends no digest of its own, whatever
    # the time of day the test runs at (its --today keeps the real time of day).
    configure(vault, f'public_url = "http://127.0.0.1:{port}"\nnotify_at = ""\n'
                     f'[notify]\nurls = ["{mail_url(smtp_port)}"]\n')
    monkeypatch.setenv("VAULTNETZ_TOKEN", TOKEN)
    monkeypatch.setenv("VAULTNETZ_CONFIG_DIR", str(tmp_path / "config"))
    server = start(vault, tmp_path, "--token", TOKEN, port=port,
                   env_extra={"VAULTNETZ_CONFIG_DIR": str(tmp_path / "serve-config")})
    try:
        result = run_cli(["notify"], vault)
        assert result.exit_code == 0, result.output
        assert "sent the digest to 1 of 1 services" in result.stdout
        again = run_cli(["notify"], vault)  # a cron job, the same day: once a day
        assert again.exit_code == 0 and "was sent already" in again.stdout
        deadline = time.monotonic() + 10
        while not inbox.messages:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert len(inbox.messages) == 1
        assert inbox.messages[0]["Subject"] == "vaultnetz 2026-11-23: 2 check-ins today"
        body = inbox.text()
        assert "Anna Berger" in body and "Bo" in body and "Cleo" not in body
        links = [line.strip() for line in body.splitlines() if line.strip().startswith("http")]
        assert len(links) == 2
        for link in links:
            assert link.startswith(f"http://127.0.0.1:{port}/{TOKEN}/c/")
            status, _, page = server.request(urllib.parse.urlsplit(link).path)
            assert status == 200 and b"We talked" in page
    finally:
        server.process.terminate()
        server.process.wait(timeout=10)
    assert "notify" in run_cli(["--help"], vault).stdout


def test_notify_to_an_http_receiver_and_nothing_when_nothing_is_due(
    vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    received: list[dict[str, object]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    httpd = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        configure(vault, f'[notify]\nurls = ["json://127.0.0.1:{httpd.server_port}/hook"]\n')
        monkeypatch.setenv("VAULTNETZ_CONFIG_DIR", str(tmp_path / "config"))
        assert run_cli(["notify"], vault).exit_code == 0
        assert len(received) == 1
        assert "Anna Berger" in str(received[0]["message"])
        assert "public_url" in str(received[0]["message"])  # no links without it: says how
        quiet = run_cli(["--today", "2026-08-15", "notify"], vault)
        assert "Nothing due today; nothing sent" in quiet.stdout
        assert len(received) == 1
        assert run_cli(["--today", "2026-08-15", "notify", "--always"], vault).exit_code == 0
        assert len(received) == 2
        dry = run_cli(["notify", "--dry-run"], vault)
        assert "2 check-ins today" in dry.stdout and len(received) == 2
        assert run_cli(["notify"], vault).exit_code == 0 and len(received) == 2
        assert run_cli(["notify", "--again"], vault).exit_code == 0 and len(received) == 3
    finally:
        httpd.shutdown()


def test_a_bad_or_unreachable_url_is_a_clear_error(vault: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULTNETZ_CONFIG_DIR", str(tmp_path / "config"))
    configure(vault, f'[notify]\nurls = ["nosuchscheme://x", "json://127.0.0.1:{free_port()}"]\n')
    result = run_cli(["notify"], vault)
    assert result.exit_code == 1
    assert "not a notification URL apprise knows: nosuchscheme://x" in result.stderr
    assert "was not sent to any service" in result.stderr and "Traceback" not in result.output
    configure(vault, "")
    assert "no [notify] urls" in run_cli(["notify"], vault).stderr


def test_serve_sends_the_digest_once_a_day_also_across_restarts(
    vault: Path, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, smtp_port = smtp
    configure(vault, f'notify_at = "00:00"\n[notify]\nurls = ["{mail_url(smtp_port)}"]\n')
    logs = []
    for run in range(2):  # then a restart: the day's digest was sent already
        server = start(vault, tmp_path / f"run{run}", "--token", TOKEN,
                       env_extra={"VAULTNETZ_CONFIG_DIR": str(tmp_path / "config")})
        try:
            deadline = time.monotonic() + 10
            while not inbox.messages:
                assert time.monotonic() < deadline, server.log.read_text()
                time.sleep(0.05)
            time.sleep(1.0)
        finally:
            server.process.terminate()
            server.process.wait(timeout=10)
        logs.append(server.log.read_text())
    assert len(inbox.messages) == 1
    assert "daily digest sent to 1 of 1 services" in logs[0]
    assert "daily digest" not in logs[1]


def test_the_daily_schedule() -> None:
    from vaultnetz.notify import next_send

    tz = timezone(timedelta(hours=1))
    now = datetime(2026, 11, 23, 7, 0, tzinfo=tz)
    assert next_send(now, "08:00", None) == now.replace(hour=8)
    late = now.replace(hour=9)
    assert next_send(late, "08:00", None) == late  # missed: at once
    assert next_send(late, "08:00", late.date()) == now.replace(hour=8) + timedelta(days=1)
    assert next_send(now, "", None) is None
