"""Act on a check-in from the phone: the page at ``/<token>/c/<id>`` and what its buttons do.

The page shows who, why now, the last contact, how you know them, open attempts, the
trip if any and the draft (to copy, or to open in mail, SMS or the phone app). Its
buttons write exactly what the matching command writes, through the same minimal, safe
write path (``actions``): ``log`` (a contact, an attempt, a no), ``snooze`` and ``pause``.

Safety: only ``POST`` writes (mail and calendar apps prefetch links with ``GET``). Each
form carries a nonce and an HMAC of it, the contact and the day, keyed by the server's
secret token: a forged form, one from another day or one sent twice does nothing; the
same button for the same contact twice within a minute is recorded once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import parse_qs, quote

from . import actions
from .drafts import dates_phrase, draft_for_check_in
from .errors import VaultnetzError
from .feed import action_id
from .model import Cadence, CheckIn, Contact
from .report import interaction_text, strip_controls, text, why_now, work_text
from .schedule import standing_of
from .trips import upcoming_trip
from .watch import FeedService, Snapshot

Response = tuple[str, list[tuple[str, str]], bytes]

ACTIONS: dict[str, str] = {
    "talked": "We talked",
    "attempt": "Reached out, no answer yet",
    "declined": "They said no",
    "snooze-2w": "Snooze 2 weeks",
    "snooze-1m": "Snooze 1 month",
    "snooze-3m": "Snooze 3 months",
    "pause": "Pause: no more reminders",
}
_SNOOZE = {"snooze-2w": Cadence(14, "days", "2w"), "snooze-1m": Cadence(1, "months", "1m"),
           "snooze-3m": Cadence(3, "months", "3m")}
REPEAT_SECONDS = 60.0  # the same button twice within this is one press

_COPY_SCRIPT = ("var b=document.getElementById('copy'),d=document.getElementById('draft');"
                "if(navigator.clipboard){b.hidden=false;b.onclick=function(){"
                "navigator.clipboard.writeText(d.textContent).then(function(){"
                "b.textContent='Copied';});};}")
_SCRIPT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(_COPY_SCRIPT.encode()).digest()
                                            ).decode()
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
       f"script-src '{_SCRIPT_HASH}'; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")

STYLE = """
*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:40rem;padding:1rem;color:#222;
line-height:1.45;overflow-wrap:anywhere}
h1{font-size:1.4rem;margin:.4rem 0} h2{font-size:1.1rem;margin:1.2rem 0 .4rem}
dl{margin:0} dt{font-weight:600;margin-top:.5rem} dd{margin:0}
.why{color:#444} .draft{background:#f4f4f4;padding:.7rem;border-radius:.4rem;white-space:pre-wrap}
.send a,.send button{display:inline-block;margin:.3rem .5rem .3rem 0}
form button{display:block;width:100%;margin:.5rem 0;padding:.8rem;font-size:1rem;
border-radius:.5rem;border:1px solid #999;background:#fff}
form button.main{background:#1a5;color:#fff;border-color:#1a5}
label{display:block;margin:.5rem 0} input[type=text]{width:100%;padding:.6rem;font-size:1rem}
.ok{background:#e7f6ea;padding:.7rem;border-radius:.4rem} .err{background:#fbe9e7;
padding:.7rem;border-radius:.4rem} li{margin:.4rem 0}
"""


def page_shell(title: str, body: str, *, script: bool = False) -> bytes:
    tail = f"<script>{_COPY_SCRIPT}</script>" if script else ""
    return (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<meta name=\"robots\" content=\"noindex\">\n<title>{h(title)}</title>\n"
            f"<style>{STYLE}</style></head><body><main>\n{body}\n</main>{tail}</body></html>\n"
            ).encode()


def h(value: str) -> str:
    return html.escape(strip_controls(value))


def headers(body: bytes) -> list[tuple[str, str]]:
    return [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
            ("Cache-Control", "private, no-store"), ("Referrer-Policy", "no-referrer"),
            ("X-Content-Type-Options", "nosniff"), ("Content-Security-Policy", CSP)]


@dataclass
class _Seen:
    """Forms already used (their nonces, per day) and the last press of each button."""

    nonces: dict[str, date]
    presses: dict[tuple[str, str, str], float]


class ActionPages:
    """The pages and the form handling, for one server (one secret, one vault)."""

    def __init__(self, service: FeedService, secret: bytes, base: str,
                 timer: Callable[[], float]) -> None:
        # base: the path prefix of the pages ("/<token>/"); timer: a monotonic clock
        # for the one-minute repeat check (passed in: the core reads no clock).
        self.service = service
        self.secret = secret
        self.base = base
        self.timer = timer
        self._seen = _Seen({}, {})
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ finding

    def find(self, snapshot: Snapshot, cid: str) -> Contact | None:
        return next((c for c in snapshot.vault.contacts if action_id(c.path) == cid), None)

    def signature(self, cid: str, day: date, nonce: str) -> str:
        message = f"vaultnetz-action\0{cid}\0{day.isoformat()}\0{nonce}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    # ------------------------------------------------------------------ GET

    def page(self, snapshot: Snapshot, contact: Contact) -> Response:
        body = page_shell(f"{contact.name} · check-in",
                          self._page_body(snapshot, contact), script=True)
        return "200 OK", headers(body), body

    def _page_body(self, snapshot: Snapshot, contact: Contact) -> str:
        vault, plan = snapshot.vault, snapshot.plan
        config = vault.config
        today = plan.today
        check_in = next((c for c in plan.check_ins if c.contact.path == contact.path), None)
        standing = plan.standings.get(contact.path) or standing_of(contact, today,
                                                                  config.max_attempts)
        rows: list[tuple[str, str]] = []
        last = standing.last_contact
        rows.append(("Last contact", f"{last.day.isoformat()} {interaction_text(last)}".strip()
                     if last else "never"))
        rows += [(label, value) for label, value in (
            ("How you know them", contact.met_via), ("City", contact.city),
            ("Work", work_text(contact))) if value]
        if standing.open_attempts:
            rows.append(("Open attempts", f"{len(standing.open_attempts)} of "
                                          f"{config.max_attempts}"))
        trip = upcoming_trip(contact, vault.trips, today, config)
        if trip is not None:
            rows.append(("Trip", f"{trip.city}, "
                                 f"{dates_phrase(trip.start, trip.end, config.language)}"))
        when = (f"Next check-in: {check_in.due.isoformat()}" if check_in else
                f"No check-in scheduled ({contact.status})" if contact.status != "active"
                else "No check-in scheduled")
        why = why_now(check_in, config) if check_in else ""
        draft = draft_for_check_in(check_in, config) if check_in else ""
        nonce = secrets.token_urlsafe(16)
        cid = action_id(contact.path)
        sig = self.signature(cid, today, nonce)
        parts = [f'<p><a href="{self.base}">← all check-ins</a></p>',
                 f"<h1>{h(contact.name)}</h1>", f"<p class=why>{h(when)}"
                 + (f"<br>{h(why)}" if why else "") + "</p>",
                 "<dl>" + "".join(f"<dt>{h(k)}</dt><dd>{h(v)}</dd>" for k, v in rows) + "</dl>"]
        if draft:
            parts += ["<h2>Draft</h2>", f'<p class=draft id="draft">{h(draft)}</p>',
                      "<p class=send>" + '<button type="button" id="copy" hidden>Copy the '
                      "draft</button>" + _send_links(contact, draft, config.language) + "</p>"]
        buttons = "".join(
            f'<button type="submit" name="action" value="{key}"'
            f'{" class=main" if key == "talked" else ""}>{h(label)}</button>'
            for key, label in ACTIONS.items())
        parts += ["<h2>What happened?</h2>",
                  f'<form method="post" action="{self.base}c/{cid}">'
                  f'<input type="hidden" name="nonce" value="{nonce}">'
                  f'<input type="hidden" name="sig" value="{sig}">'
                  '<label>In a few words (optional, for "We talked" and "They said no")'
                  '<input type="text" name="text" maxlength="200" autocomplete="off"></label>'
                  f"{buttons}</form>"]
        return "\n".join(parts)

    # ------------------------------------------------------------------ POST

    def act(self, snapshot: Snapshot, contact: Contact, form: dict[str, str]) -> Response:
        cid = action_id(contact.path)
        today = snapshot.plan.today
        action, nonce, sig = form.get("action", ""), form.get("nonce", ""), form.get("sig", "")
        if action not in ACTIONS or not nonce or not hmac.compare_digest(
                sig.encode("ascii", "replace"),
                self.signature(cid, today, nonce).encode()):
            return self._answer("403 Forbidden", contact, "err",
                                "This form is not valid (from another day, or not from this "
                                "page): nothing was written. Open the page again.")
        text_value = " ".join(form.get("text", "").split())[:200]
        now = self.timer()
        with self._lock:
            if nonce in self._seen.nonces:
                return self._answer("200 OK", contact, "ok",
                                    "This form was sent already; nothing more was written.")
            press = (cid, action, text_value)
            if now - self._seen.presses.get(press, -1e9) < REPEAT_SECONDS:
                self._seen.nonces[nonce] = today
                return self._answer("200 OK", contact, "ok",
                                    "Recorded a moment ago already; nothing more was written.")
            # Forget what can no longer matter: other days' forms, presses over a minute old.
            self._seen.nonces = {n: d for n, d in self._seen.nonces.items() if d == today}
            self._seen.presses = {p: t for p, t in self._seen.presses.items()
                                  if now - t < REPEAT_SECONDS}
            self._seen.nonces[nonce] = today
            try:
                result = self._write(snapshot, contact, action, text_value, today)
            except VaultnetzError as exc:
                del self._seen.nonces[nonce]  # nothing was written: the form may be sent again
                return self._answer("409 Conflict", contact, "err", f"Nothing was written: {exc}")
            self._seen.presses[press] = now
        fresh = self.service.rebuild({contact.path})
        check_in = next((c for c in fresh.plan.check_ins if c.contact.path == contact.path),
                        None)
        written = result.summary if result.changed else f"Unchanged: {result.summary}"
        nxt = (f"Next check-in: {check_in.due.isoformat()}." if check_in else
               "No check-in is scheduled now.")
        return self._answer("200 OK", contact, "ok", f"{written}\n{nxt}")

    def _write(self, snapshot: Snapshot, contact: Contact, action: str, text_value: str,
               today: date) -> actions.WriteResult:
        vault = snapshot.vault
        if action in ("talked", "attempt", "declined"):
            kind = {"talked": "contact", "attempt": "attempt", "declined": "declined"}[action]
            return actions.log_interaction(
                vault, contact, day=today, kind=kind,  # type: ignore[arg-type]
                text=text_value if action != "attempt" else "", today=today)
        if action in _SNOOZE:
            return actions.snooze(vault, contact, _SNOOZE[action].after(today))
        return actions.set_status(vault, contact, "paused")

    def _answer(self, status: str, contact: Contact, kind: str, message: str) -> Response:
        lines = "<br>".join(h(line) for line in message.splitlines())
        cid = action_id(contact.path)
        body = page_shell(f"{contact.name} · check-in",
                          f'<p><a href="{self.base}">← all check-ins</a></p>'
                          f"<h1>{h(contact.name)}</h1><p class={kind}>{lines}</p>"
                          f'<p><a href="{self.base}c/{cid}">Back to {h(contact.name)}</a></p>')
        return status, headers(body), body


def _send_links(contact: Contact, draft: str, language: str) -> str:
    """mailto:, sms: and tel: links, prefilled with the draft where the contact has the
    address or number."""
    links = []
    subject = text(language, "mail_subject")
    for email in contact.email[:1]:
        links.append(f'<a href="mailto:{quote(email, safe="@")}?subject={quote(subject)}'
                     f'&amp;body={quote(draft)}">Mail</a>')
    for phone in contact.phone[:1]:
        number = "".join(c for c in phone if c.isdigit() or c == "+")
        if number:
            links.append(f'<a href="sms:{number}?body={quote(draft)}">SMS</a>')
            links.append(f'<a href="tel:{number}">Call</a>')
    return " ".join(links)


def read_form(environ: dict[str, Any], limit: int = 16_384) -> dict[str, str]:
    """The url-encoded body of a POST (the first value of each field)."""
    try:
        length = min(int(environ.get("CONTENT_LENGTH") or 0), limit)
    except ValueError:
        length = 0
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    fields = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in fields.items() if v}


def check_in_link(base: str, check_in: CheckIn) -> str:
    return f"{base}c/{action_id(check_in.contact.path)}"
