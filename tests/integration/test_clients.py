"""Real calendar clients accept the feed: khal, and a vdirsyncer http → filesystem sync."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import TODAY, plan_for
from vaultnetz.feed import build_calendar

KHAL_CONFIG = """\
[calendars]
[[vaultnetz]]
path = {path}
type = calendar
[locale]
timeformat = %H:%M
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M
local_timezone = UTC
default_timezone = UTC
"""


def feed(root: Path) -> bytes:
    vault, plan = plan_for(root, TODAY)
    return build_calendar(vault, plan)


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed (the CI installs it with apt-get)")
    return path


def clean_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "cfg"),
               XDG_DATA_HOME=str(tmp_path / "data"), LC_ALL="C.UTF-8")
    return env


def test_khal_prints_and_imports_the_feed(sample_copy: Path, tmp_path: Path) -> None:
    khal = need("khal")
    ics = tmp_path / "feed.ics"
    ics.write_bytes(feed(sample_copy))
    (tmp_path / "cal").mkdir()
    config = tmp_path / "khal.conf"
    config.write_text(KHAL_CONFIG.format(path=tmp_path / "cal"))
    env = clean_env(tmp_path)
    printed = subprocess.run([khal, "-c", str(config), "printics", str(ics)], env=env,
                             capture_output=True, text=True, check=False, timeout=120)
    assert printed.returncode == 0, printed.stderr
    assert "warning" not in printed.stderr.lower() and "error" not in printed.stderr.lower()
    assert "Check in with Anna Berger" in printed.stdout
    count = ics.read_bytes().count(b"BEGIN:VEVENT")
    assert f"{count} events found" in printed.stdout
    imported = subprocess.run([khal, "-c", str(config), "import", "--batch", "-a", "vaultnetz",
                               str(ics)], env=env, capture_output=True, text=True, check=False,
                              timeout=120)
    assert imported.returncode == 0, imported.stderr
    listed = subprocess.run([khal, "-c", str(config), "list", "2026-11-23", "2026-11-24"],
                            env=env, capture_output=True, text=True, check=False, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert "Check in with Anna Berger" in listed.stdout


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on 127.0.0.1 (a stand-in for any static host)."""
    folder = tmp_path / "www"
    folder.mkdir()
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}/vaultnetz.ics"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_vdirsyncer_http_subscription_propagates_deletions(
    sample_copy: Path, tmp_path: Path, served: tuple[Path, str]
) -> None:
    vdirsyncer = need("vdirsyncer")
    www, url = served
    local = tmp_path / "local"
    local.mkdir()
    config = tmp_path / "vdirsyncer.conf"
    config.write_text(f"""\
[general]
status_path = "{tmp_path / 'status'}/"

[pair feed]
a = "remote"
b = "local"
collections = null
conflict_resolution = "a wins"

[storage remote]
type = "http"
url = "{url}"

[storage local]
type = "filesystem"
path = "{local}/"
fileext = ".ics"
""")
    env = clean_env(tmp_path)

    def sync() -> set[str]:
        result = subprocess.run([vdirsyncer, "-c", str(config), "sync"], env=env,
                                capture_output=True, text=True, check=False, timeout=120,
                                input="")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "error" not in result.stderr.lower(), result.stderr
        return {p.read_text() for p in local.glob("*.ics")}

    (www / "vaultnetz.ics").write_bytes(feed(sample_copy))
    subprocess.run([vdirsyncer, "-c", str(config), "discover"], env=env, capture_output=True,
                   check=True, timeout=120, input="")
    first = sync()
    assert any("Check in with Lea Wagner" in item for item in first)
    count = len(first)
    # Lea gets archived: her check-in and birthday must disappear from the subscriber too.
    lea = sample_copy / "People" / "Studium" / "Lea Wagner.md"
    lea.write_text(lea.read_text().replace("tags: [person, studium]",
                                           "tags: [person, studium]\nstatus: archived"))
    (www / "vaultnetz.ics").write_bytes(feed(sample_copy))
    second = sync()
    assert not any("Lea Wagner" in item for item in second)
    assert len(second) == count - 2


KHARD_CONFIG = """\
[addressbooks]
[[book]]
path = {path}
[general]
debug = no
default_action = list
editor = vim
merge_editor = vimdiff
[contact table]
display = first_name
group_by_addressbook = no
reverse = no
show_nicknames = no
show_uids = yes
sort = last_name
localize_dates = yes
preferred_phone_number_type = pref, cell, home
preferred_email_address_type = pref, work, home
[vcard]
private_objects = Jabber,
preferred_version = 4.0
search_in_source_files = no
skip_unparsable = no
"""


def test_khard_reads_every_exported_contact(sample_copy: Path, tmp_path: Path) -> None:
    import re

    from vaultnetz.export import export_vcard
    from vaultnetz.load import load_vault

    khard = need("khard")
    vault = load_vault(sample_copy)
    text = export_vcard(vault)
    book = tmp_path / "book"
    book.mkdir()
    cards = re.findall(r"BEGIN:VCARD.*?END:VCARD\r\n", text, re.S)
    for i, card in enumerate(cards):  # khard reads a vdir: one card per file
        (book / f"{i}.vcf").write_text(card, encoding="utf-8")
    config = tmp_path / "khard.conf"
    config.write_text(KHARD_CONFIG.format(path=book))
    listed = subprocess.run([khard, "-c", str(config), "list", "--parsable"],
                            env=clean_env(tmp_path), capture_output=True, text=True,
                            check=False, timeout=120)
    assert listed.returncode == 0, listed.stderr
    from vaultnetz.names import parse_name

    # khard shows given and family name from N, sorted by family name: N is structured.
    shown_names = [line.split("\t")[1] for line in listed.stdout.splitlines()]
    active = [parse_name(c.name) for c in vault.contacts if c.status == "active"]
    assert sorted(shown_names) == sorted(
        " ".join(x for x in (p.first, p.middle, p.last) if x) for p in active)
    assert shown_names == [" ".join(x for x in (p.first, p.middle, p.last) if x)
                           for p in sorted(active, key=lambda p: (p.last, p.first))]
    shown = subprocess.run([khard, "-c", str(config), "show", "--format", "yaml",
                            "Anna Berger"], env=clean_env(tmp_path), capture_output=True,
                           text=True, check=False, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert "anna.berger@example.org" in shown.stdout
    assert "München" in shown.stdout
