"""Acting on a check-in from the phone: the action page of a real `serve` on 127.0.0.1,
driven with plain HTTP (forms, forgeries, replays, prefetches) and in Debian's Chromium at a
phone's width (through chromedriver)."""

from __future__ import annotations

import hashlib
import html
import re
import shutil
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import icalendar
import pytest
from test_server import TOKEN, Server, serving

from conftest import contact_note

TODAY = "2026-11-23"


@pytest.fixture
def vault(make_vault) -> Path:
    return make_vault({
        ".obsidian/app.json": "{}",
        "People/Anna Berger.md": contact_note(
            "last_contact: 2026-07-01\ncadence: 3m\nemail: anna@example.org\n"
            "phone: +49 170 1234567\nmet_via: the seminar in Leipzig\ncity: München",
            "# Anna\n\n## Log\n- 2026-07-01 Coffee at the market\n"),
        "People/Bo Lindqvist.md": contact_note("last_contact: 2026-06-01\ncadence: 3m"),
        "People/Cleo.md": contact_note("last_contact: 2026-11-20\ncadence: 6m"),
    })


@pytest.fixture
def server(vault: Path, tmp_path: Path) -> Iterator[Server]:
    with serving(vault, tmp_path, "--token", TOKEN) as running:
        yield running


def fingerprint(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def action_links(server: Server) -> dict[str, str]:
    """Summary → the action link of each check-in event in the served feed."""
    status, _, body = server.request(server.feed())
    assert status == 200
    out = {}
    for event in icalendar.Calendar.from_ical(body).walk("VEVENT"):
        url = str(event["URL"])
        if "/c/" in url:
            out[str(event["SUMMARY"])] = url
    return out


def path_of(url: str) -> str:
    return urllib.parse.urlsplit(url).path


def form_of(page: bytes) -> dict[str, str]:
    text = page.decode()
    return {name: html.unescape(value) for name, value in
            re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', text)}


def post(server: Server, path: str, fields: dict[str, str]) -> tuple[int, bytes]:
    body = urllib.parse.urlencode(fields)
    status, _, data = server.request(path, "POST", {
        "Content-Type": "application/x-www-form-urlencoded"}, body=body)
    return status, data


def due_of(server: Server, name: str) -> str:
    status, _, body = server.request(server.feed())
    assert status == 200
    for event in icalendar.Calendar.from_ical(body).walk("VEVENT"):
        if str(event["SUMMARY"]).endswith(name):
            return event.decoded("DTSTART").isoformat()
    return ""


def test_every_event_links_its_action_page_and_get_never_writes(server: Server, vault: Path
                                                                ) -> None:
    links = action_links(server)
    assert set(links) == {"Check in with Anna Berger", "Check in with Bo Lindqvist",
                          "Check in with Cleo"}
    before = fingerprint(vault)
    for url in links.values():
        assert url.startswith(f"http://127.0.0.1:{server.port}/{TOKEN}/c/")
        for method in ("GET", "HEAD", "GET"):
            status, headers, body = server.request(path_of(url), method)
            assert status == 200 and (body == b"") == (method == "HEAD")
            assert "script-src 'sha256-" in headers["content-security-policy"]
            assert "form-action 'self'" in headers["content-security-policy"]
    page = server.request(path_of(links["Check in with Anna Berger"]))[2].decode()
    for label in ("We talked", "Reached out, no answer yet", "They said no", "Snooze 2 weeks",
                  "Snooze 1 month", "Snooze 3 months", "Pause: no more reminders"):
        assert f">{label}</button>" in page
    assert "mailto:anna@example.org?subject=Hello&amp;body=Hi%20Anna" in page
    assert "sms:+491701234567?body=Hi%20Anna" in page and 'href="tel:+491701234567"' in page
    assert "the seminar in Leipzig" in page and "Coffee at the market" in page
    # A prefetch of any URL, with any method but POST, writes nothing.
    for path in (f"/{TOKEN}/", f"/{TOKEN}/c/nothing", f"/{TOKEN}/vaultnetz.ics",
                 path_of(links["Check in with Bo Lindqvist"]) + "?action=talked"):
        server.request(path)
    assert fingerprint(vault) == before
    index = server.request(f"/{TOKEN}/")[2].decode()
    for name in ("Anna Berger", "Bo Lindqvist"):  # due today: listed, linked
        assert f'href="{path_of(links[f"Check in with {name}"])}"' in index
    assert "The coming seven days" in index and "https://" not in index


def test_we_talked_adds_one_line_moves_the_check_in_and_a_second_press_adds_nothing(
    server: Server, vault: Path
) -> None:
    link = path_of(action_links(server)["Check in with Anna Berger"])
    before_due = due_of(server, "Anna Berger")
    note = vault / "People" / "Anna Berger.md"
    original = note.read_bytes()
    form = form_of(server.request(link)[2])
    status, body = post(server, link, {**form, "action": "talked", "text": "Lunch in town"})
    assert status == 200, body
    assert b"added to People/Anna Berger.md: - 2026-11-23 Lunch in town" in body
    assert b"Next check-in: 2027-02-23" in body
    assert note.read_bytes() == original.replace(
        b"last_contact: 2026-07-01", b"last_contact: 2026-11-23") + b"- 2026-11-23 Lunch in town\n"
    deadline = time.monotonic() + 1.0
    while due_of(server, "Anna Berger") == before_due:
        assert time.monotonic() < deadline, "the feed did not move within a second"
        time.sleep(0.05)
    written = note.read_bytes()
    # The same form again (a double tap, a replay): nothing more.
    assert post(server, link, {**form, "action": "talked", "text": "Lunch in town"})[0] == 200
    # A fresh form, the same button within a minute: recorded once.
    again = form_of(server.request(link)[2])
    status, body = post(server, link, {**again, "action": "talked", "text": "Lunch in town"})
    assert status == 200 and b"nothing more was written" in body
    assert note.read_bytes() == written


@pytest.mark.parametrize("forge", ["bad-sig", "no-nonce", "other-contact", "unknown-action"])
def test_a_forged_form_does_nothing(server: Server, vault: Path, forge: str) -> None:
    links = action_links(server)
    link = path_of(links["Check in with Anna Berger"])
    form = form_of(server.request(link)[2])
    fields = {**form, "action": "talked"}
    target = link
    if forge == "bad-sig":
        fields["sig"] = "0" * 64
    elif forge == "no-nonce":
        fields.pop("nonce")
    elif forge == "other-contact":  # Anna's form sent to Bo's page
        target = path_of(links["Check in with Bo Lindqvist"])
    else:
        fields["action"] = "delete-everything"
    before = fingerprint(vault)
    status, body = post(server, target, fields)
    assert status == 403 and b"nothing was written" in body
    assert fingerprint(vault) == before
    assert post(server, link.replace(TOKEN, "x" * len(TOKEN)), fields)[0] == 404
    assert fingerprint(vault) == before


def test_each_button_writes_what_its_command_writes(server: Server, vault: Path) -> None:
    link = path_of(action_links(server)["Check in with Bo Lindqvist"])
    note = vault / "People" / "Bo Lindqvist.md"
    expected = [
        ("attempt", "", b"- 2026-11-23 #attempt\n"),
        ("declined", "Busy until spring", b"- 2026-11-23 Busy until spring #declined\n"),
        ("snooze-1m", "", b"snooze_until: 2026-12-23\n"),
        ("snooze-3m", "", b"snooze_until: 2027-02-23\n"),
        ("snooze-2w", "", b"snooze_until: 2026-12-07\n"),
        ("pause", "", b"status: paused\n"),
    ]
    for action, words, line in expected:
        form = form_of(server.request(link)[2])
        status, body = post(server, link, {**form, "action": action, "text": words})
        assert status == 200, body
        assert line in note.read_bytes(), (action, note.read_text())
    assert b"snooze_until: 2026-12-07" in note.read_bytes()  # one key, changed in place
    assert note.read_bytes().count(b"snooze_until") == 1


def wait_for_text(driver: object, text: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in driver.page_source:  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, driver.page_source[:2000]  # type: ignore[attr-defined]
        time.sleep(0.05)


@pytest.fixture
def browser() -> Iterator[object]:
    driver_path = shutil.which("chromedriver")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not driver_path or not chromium:
        pytest.skip("chromium and chromedriver are not installed (.ci/run installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=390,844"):
        options.add_argument(argument)
    options.add_experimental_option("mobileEmulation", {
        "deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 3.0}})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_on_a_phone_sized_chromium_we_talked_records_one_line(
    server: Server, vault: Path, browser: object, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    link = action_links(server)["Check in with Anna Berger"]
    note = vault / "People" / "Anna Berger.md"
    original = note.read_bytes()
    driver.get(link)  # type: ignore[attr-defined]
    width = driver.execute_script(  # type: ignore[attr-defined]
        "return [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1] == 390, width  # no horizontal scrolling
    driver.save_screenshot(str(tmp_path / "action-page.png"))  # type: ignore[attr-defined]
    copy = driver.find_element(By.ID, "copy")  # type: ignore[attr-defined]
    assert copy.is_displayed()  # the script ran under the strict CSP
    field = driver.find_element(By.NAME, "text")  # type: ignore[attr-defined]
    field.send_keys("Coffee by the river")
    driver.find_element(  # type: ignore[attr-defined]
        By.CSS_SELECTOR, 'button[value="talked"]').click()
    wait_for_text(driver, 'class="ok"')
    assert "Next check-in: 2027-02-23" in driver.page_source  # type: ignore[attr-defined]
    assert note.read_bytes().count(b"\n- 2026-11-23 Coffee by the river\n") == 1
    after = note.read_bytes()
    driver.back()  # type: ignore[attr-defined]
    driver.refresh()  # type: ignore[attr-defined]
    driver.find_element(By.NAME, "text").send_keys(  # type: ignore[attr-defined]
        "Coffee by the river")
    driver.find_element(  # type: ignore[attr-defined]
        By.CSS_SELECTOR, 'button[value="talked"]').click()
    wait_for_text(driver, "nothing more was written")
    assert note.read_bytes() == after  # a second press adds nothing
    assert after != original
    for action in ("snooze-2w", "pause"):
        driver.get(link)  # type: ignore[attr-defined]
        driver.find_element(  # type: ignore[attr-defined]
            By.CSS_SELECTOR, f'button[value="{action}"]').click()
        wait_for_text(driver, 'class="ok"')
    text = note.read_text()
    assert "snooze_until: 2026-12-07" in text and "status: paused" in text
    driver.get(f"http://127.0.0.1:{server.port}/{TOKEN}/")  # type: ignore[attr-defined]
    width = driver.execute_script(  # type: ignore[attr-defined]
        "return [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width


def test_ics_and_watch_link_the_action_pages_where_public_url_says(
    vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import run_cli

    (vault / "vaultnetz.toml").write_text('public_url = "https://notes.example.org/"\n')
    monkeypatch.setenv("VAULTNETZ_TOKEN", TOKEN)
    data = run_cli(["ics"], vault).stdout_bytes
    urls = {str(e["URL"]) for e in icalendar.Calendar.from_ical(data).walk("VEVENT")
            if str(e["SUMMARY"]).startswith("Check in")}
    assert len(urls) == 3
    assert all(u.startswith(f"https://notes.example.org/{TOKEN}/c/") for u in urls)
    assert TOKEN not in (vault / "vaultnetz.toml").read_text()  # never written in the vault
    assert b"obsidian://open?vault=vault" in data  # the note's link stays
