"""The config spec as data: every key with its default, parser and help.

From the one table come the defaults, the validation (unknown key → warning,
bad value → error naming key, value and what is accepted) and the commented
file that ``vaultnetz init`` writes.
"""

from __future__ import annotations

import difflib
import functools
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .model import Cadence, Problem
from .values import CADENCE_ACCEPTED, parse_cadence

CONFIG_NAME = "vaultnetz.toml"

# Fields of a contact note whose front-matter key the user may rename under [fields].
FIELD_NAMES = (
    "name",
    "aliases",
    "cadence",
    "last_contact",
    "snooze_until",
    "status",
    "priority",
    "birthday",
    "met_via",
    "city",
    "company",
    "role",
    "email",
    "phone",
    "linkedin",
    "tags",
    "date",
    "department",
    "website",
)


@dataclass(frozen=True)
class Key:
    name: str
    default: Any
    parse: Callable[[Any], Any]
    accepted: str
    help: str
    example: str | None = None  # TOML text for `init`, when the default is not obvious


def _str_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError("expected a list of folder names")
    folders = tuple(v.strip().replace("\\", "/").strip("/") for v in value)
    for folder in folders:
        # Folders inside the vault only: `add` and `import` write into the first one.
        if not folder or folder.startswith("~") or ":" in folder or any(
                part in ("..", ".") for part in folder.split("/")):
            raise ValueError(f"{folder or '/'!r} is not a folder inside the vault; use paths "
                             "such as \"People\" or \"Areas/People\"")
    return folders


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("expected a whole number of at least 1")
    return value


MAX_HORIZON_DAYS = 3660  # ten years: the feed's reach, at most
MAX_TRIP_LEAD_DAYS = 365


def _int_range(low: int, high: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"expected a whole number from {low} to {high:,}")
        return value

    return parse


def _non_negative_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("expected a whole number of at least 0")
    return value


TEMPLATE_NAMES = ("checkin", "checkin_plain", "never", "never_linkedin", "never_plain",
                  "attempt", "declined", "trip")
TEMPLATE_FIELDS = ("first_name", "name", "city", "dates", "last_topic", "met_via")


# A placeholder of a draft: {name} (any word between braces, so that {name.attr},
# {name[0]} or {name:>9} are found and refused), or the doubled braces of a literal one.
# Braces around spaced text ("{ and }") are text.
PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}\s]+)\}")


def fill_template(template: str, values: Mapping[str, str]) -> str:
    """``template`` with each {field} replaced by its value; ``{{``/``}}`` are braces.

    Plain substitution, not ``str.format``: a template can reach no attribute, index
    or width, whatever it says; anything unknown stays as written.
    """
    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        if match.group(1) is None:
            return token[0]
        return values.get(match.group(1), token)

    return PLACEHOLDER.sub(one, template)


def _template_table(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError("expected a table of draft name = text")
    out = {}
    for name, text in value.items():
        if name not in TEMPLATE_NAMES:
            raise ValueError(f"unknown draft {name!r}; known: {', '.join(TEMPLATE_NAMES)}")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"draft {name!r} must be text")
        for match in PLACEHOLDER.finditer(text):
            field_name = match.group(1)
            if field_name is not None and field_name not in TEMPLATE_FIELDS:
                raise ValueError(
                    f"draft {name!r} uses {{{field_name}}}; use only "
                    + ", ".join(f"{{{f}}}" for f in TEMPLATE_FIELDS)
                    + ", as written: no attributes, indexes, conversions or widths")
        if any((ord(c) < 32 and c not in "\t\n") or ord(c) == 127 for c in text):
            raise ValueError(f"draft {name!r} contains a control character")
        out[name] = text
    return out


def _city_table(value: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise ValueError('expected a table of city = ["other", "names"]')
    out = {}
    for city, names in value.items():
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError(f"{city!r}: expected a list of names")
        out[str(city)] = tuple(names)
    return out


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string in quotes")
    return value


def _heading(value: Any) -> str:
    text = _text(value).strip().lstrip("#").strip()
    if not text:
        raise ValueError("expected the heading's text, e.g. \"Log\"")
    return text


def _language(value: Any) -> str:
    if value not in ("en", "de"):
        raise ValueError('expected "en" or "de"')
    return str(value)


def _alarm(value: Any) -> str:
    text = _text(value).strip()
    if text and not re.match(r"^([01]\d|2[0-3]):[0-5]\d$", text):
        raise ValueError('expected "" (no alarm) or a time of day "HH:MM"')
    return text


def _agenda(value: Any) -> str:
    text = _text(value).strip().replace("\\", "/")
    if not text:
        return ""
    if text.startswith("/") or ".." in text.split("/") or not text.lower().endswith(".md"):
        raise ValueError('expected a path inside the vault ending in .md, e.g. "Check-ins.md"')
    return text


def _phone_region(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a country code such as \"DE\"")
    region = value.strip().upper()
    if region:
        import phonenumbers

        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a country code phonenumbers knows")
    return region


def _patterns(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError('expected a list of patterns such as ["Archive/**"]')
    return tuple(v.strip() for v in value)


def _public_url(value: Any) -> str:
    text = _text(value).strip().rstrip("/")
    if text and not re.match(r"^https?://[^/\s]+(/[^\s]*)?$", text):
        raise ValueError('expected an http:// or https:// address, e.g. "https://notes.example.org"')
    return text


def _notify_table(value: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict) or set(value) - {"urls"}:
        raise ValueError("expected a table with urls = [\"...\"]")
    urls = value.get("urls", [])
    urls = [urls] if isinstance(urls, str) else urls
    if not isinstance(urls, list) or not all(isinstance(u, str) and "://" in u for u in urls):
        raise ValueError("expected urls = a list of notification URLs (scheme://…)")
    return {"urls": tuple(urls)}


def _date_order(value: Any) -> str:
    if value not in ("", "DMY", "MDY"):
        raise ValueError('expected "DMY", "MDY" or ""')
    return str(value)


def _cadence_table(value: Any) -> dict[str, Cadence]:
    if not isinstance(value, dict):
        raise ValueError("expected a table of tag = cadence")
    return {str(tag).lstrip("#").lower(): parse_cadence(c) for tag, c in value.items()}


def _field_table(value: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise ValueError("expected a table of field = front-matter key (or a list of keys)")
    unknown = [k for k in value if k not in FIELD_NAMES]
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(FIELD_NAMES)}")
    out = {}
    for name, keys in value.items():
        keys = [keys] if isinstance(keys, str) else keys
        if not isinstance(keys, list) or not keys or not all(
                isinstance(k, str) and k.strip() for k in keys):
            raise ValueError("expected front-matter key names as strings")
        out[name] = tuple(k.strip() for k in keys)
    return out


# The keys other Obsidian people and CRM setups use for the same fields (the Obsidian
# personal CRM plugins, Dataview examples, vCard-contacts vaults, Monica's exports…).
# Keys are compared without case, spaces, '-', '_' and '.': "Last Contact" = last_contact.
FIELD_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("full_name",),
    "aliases": ("alias",),
    "last_contact": ("last_contacted", "last_met", "last_seen", "last_contact_date",
                     "letzter_kontakt", "zuletzt"),
    "birthday": ("bday", "birthdate", "born", "date_of_birth", "dob", "geburtstag"),
    "email": ("e-mail", "mail", "emails", "email_address", "e-mails"),
    "phone": ("mobile", "tel", "telephone", "phones", "phone_number", "cell", "telefon",
              "handy"),
    "company": ("organization", "organisation", "org", "employer", "firma"),
    "role": ("title", "position", "job_title", "job", "beruf"),
    "city": ("location", "town", "ort", "stadt", "wohnort"),
    "met_via": ("how_we_met", "met_at", "kennengelernt"),
    "cadence": ("frequency", "contact_frequency", "reminder_frequency"),
    "snooze_until": ("snoozed_until",),
    "linkedin": ("linked_in", "linkedin_url"),
    "department": ("dept", "abteilung"),
    "website": ("url", "homepage", "web", "site"),
    "tags": (),
    "status": (),
    "priority": (),
    "date": (),
}


@functools.lru_cache(maxsize=4096)
def norm_key(key: str) -> str:
    """A front-matter key as compared: "Last Contact", last-contact, lastContact →
    lastcontact."""
    return re.sub(r"[\s_\-.]", "", key).casefold()


KEYS: tuple[Key, ...] = (
    Key("people_folders", ("People",), _str_list, "a list of folder names",
        "Folders (searched recursively) whose notes are contacts. "
        "Any note tagged `person` is a contact too.", 'people_folders = ["People"]'),
    Key("default_cadence", Cadence(3, "months", "3m"), parse_cadence, CADENCE_ACCEPTED,
        "How often to check in when a note has no `cadence`.", 'default_cadence = "3m"'),
    Key("cadence_by_tag", {}, _cadence_table, "a table of tag = cadence",
        "Cadence by tag, for notes without `cadence`: the first entry whose tag the "
        "contact has wins.", '[cadence_by_tag]\n# mentor = "6w"\n# alumni = "1y"'),
    Key("attempt_backoff", Cadence(28, "days", "4w"), parse_cadence, CADENCE_ACCEPTED,
        "After an unanswered attempt (#attempt), the next reminder comes this much later.",
        'attempt_backoff = "4w"'),
    Key("max_attempts", 3, _positive_int, "a whole number ≥ 1",
        "After this many unanswered attempts in a row the reminders stop and the contact "
        "is one-sided (see `review`)."),
    Key("declined_backoff", Cadence(3, "months", "3m"), parse_cadence, CADENCE_ACCEPTED,
        "After a no (#declined), try again this much later.", 'declined_backoff = "3m"'),
    Key("max_per_day", 3, _positive_int, "a whole number ≥ 1",
        "At most this many check-ins on one day; the rest wait for the next days."),
    Key("max_per_week", 0, _non_negative_int, "a whole number ≥ 0 (0: no weekly limit)",
        "At most this many check-ins in one calendar week (Monday to Sunday), so that a "
        "large backlog becomes a gentle drip; 0 means no weekly limit."),
    Key("let_go_after", Cadence(24, "months", "2y"), parse_cadence, CADENCE_ACCEPTED,
        "`review` lists contacts silent for longer than this as candidates to let go.",
        'let_go_after = "2y"'),
    Key("log_heading", "Log", _heading, "the heading's text",
        "The heading of the section holding the log bullets."),
    Key("horizon_days", 365, _int_range(1, MAX_HORIZON_DAYS),
        f"a whole number of days from 1 to {MAX_HORIZON_DAYS:,}",
        "How far ahead the feed reaches."),
    Key("calendar_name", "vaultnetz check-ins", _text, "a string",
        "The calendar's name in calendar apps."),
    Key("birthdays", True, _bool, "true or false", "Put birthdays in the feed."),
    Key("alarm", "", _alarm, '"" or "HH:MM"',
        "An alarm on the day of each check-in at this time; empty means none."),
    Key("language", "en", _language, '"en" or "de"', "Language of the feed's texts."),
    Key("obsidian_vault", "", _text, "a string",
        "The vault's name for obsidian:// links; empty means the vault folder's name."),
    Key("agenda_note", "", _agenda, "a note path such as \"Check-ins.md\", or \"\"",
        "`watch` and `serve` keep this note listing today's and this week's check-ins; "
        "empty means none. It is never read as input."),
    Key("import_cadence", Cadence(6, "months", "6m"), parse_cadence, CADENCE_ACCEPTED,
        "The cadence given to contacts created by `import`.", 'import_cadence = "6m"'),
    Key("phone_region", "", _phone_region, 'a country code such as "DE", or ""',
        "Where phone numbers without a country code are from, to tell whether two are the "
        "same (import); empty: DE when language is de, else only numbers written with a "
        "country code compare."),
    Key("public_url", "", _public_url, 'an http(s) address such as "https://notes.example.org"',
        "Where `serve`'s page is reachable from your phone (a LAN name, Tailscale, a proxy): "
        "feed events and the daily digest link each check-in's action page there. The "
        "secret token is never written here; it is added to the links."),
    Key("notify_at", "08:00", _alarm, '"HH:MM" (local time), or "" for never',
        "When `serve` sends the daily digest through [notify] urls."),
    Key("notify", {}, _notify_table, "a table with urls = [notification URLs]",
        "Where the daily digest goes (`vaultnetz notify`; `serve` at notify_at): apprise "
        "URLs for mail, ntfy, Telegram, Matrix, Gotify and more.",
        '[notify]\n# urls = ["mailtos://user:app-password@example.org", "ntfy://my-topic"]'),
    Key("git_commit", False, _bool, "true or false",
        "Commit every write to the vault's git repository (like --commit)."),
    Key("max_note_size", 2_000_000, _positive_int, "a number of bytes ≥ 1",
        "Notes larger than this are skipped with a warning."),
    Key("exclude", (), _patterns, 'a list of glob patterns such as "Archive/**"',
        "Notes to skip, by their path in the vault (glob patterns; a name without wildcards "
        "is a folder). The templates folders of Obsidian's Templates and Templater plugins "
        "are skipped anyway, e.g. [\"Archive/**\", \"**/*.excalidraw.md\"]."),
    Key("trip_folders", ("Trips",), _str_list, "a list of folder names",
        "Folders whose notes with front-matter `city`, `from` and `to` are trips."),
    Key("trip_lead_days", 7, _int_range(0, MAX_TRIP_LEAD_DAYS),
        f"a whole number of days from 0 to {MAX_TRIP_LEAD_DAYS}",
        "The feed reminds you this many days before a trip whom to ask for a coffee."),
    Key("city_aliases", {}, _city_table, "a table of city = [other names]",
        "Other names of a city for `near` and trips; case, accents and umlauts never matter.",
        '[city_aliases]\n# "München" = ["Munich", "Monaco di Baviera"]'),
    Key("templates", {}, _template_table, "a table of draft name = text",
        "Your own message drafts (checkin, checkin_plain, never, never_linkedin, never_plain, "
        "attempt, "
        "declined, trip) with {first_name}, {name}, {city}, {dates}, {last_topic}, {met_via}.",
        '[templates]\n# trip = "Hi {first_name}, I am in {city} {dates}. Coffee? '
        'No worries if not."'),
    Key("fields", {}, _field_table, "a table of field = front-matter key",
        "Other front-matter keys for a field (one, or a list), besides the field's own "
        "name and the common ones of other tools (last_contacted, bday, e-mail, "
        "organization, … in any case or spelling).",
        '[fields]\n# last_contact = ["last-seen", "zuletzt gesehen"]'),
    Key("date_order", "", _date_order, '"", "DMY" or "MDY"',
        "How to read a date like 03/04/1990 in a note: day first (DMY) or month first "
        "(MDY); empty: DMY when language is de, else MDY."),
)

KEYS_BY_NAME = {key.name: key for key in KEYS}


@dataclass(frozen=True)
class Config:
    people_folders: tuple[str, ...] = ("People",)
    default_cadence: Cadence = Cadence(3, "months", "3m")
    cadence_by_tag: dict[str, Cadence] = field(default_factory=dict)
    attempt_backoff: Cadence = Cadence(28, "days", "4w")
    max_attempts: int = 3
    declined_backoff: Cadence = Cadence(3, "months", "3m")
    max_per_day: int = 3
    max_per_week: int = 0
    let_go_after: Cadence = Cadence(24, "months", "2y")
    log_heading: str = "Log"
    horizon_days: int = 365
    calendar_name: str = "vaultnetz check-ins"
    birthdays: bool = True
    alarm: str = ""
    language: str = "en"
    obsidian_vault: str = ""
    agenda_note: str = ""
    import_cadence: Cadence = Cadence(6, "months", "6m")
    phone_region: str = ""
    public_url: str = ""
    notify_at: str = "08:00"
    notify: dict[str, tuple[str, ...]] = field(default_factory=dict)
    git_commit: bool = False
    max_note_size: int = 2_000_000
    exclude: tuple[str, ...] = ()
    trip_folders: tuple[str, ...] = ("Trips",)
    trip_lead_days: int = 7
    city_aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    templates: dict[str, str] = field(default_factory=dict)
    fields: dict[str, tuple[str, ...]] = field(default_factory=dict)
    date_order: str = ""

    def key(self, field_name: str) -> str:
        """The front-matter key to write a field under (the first of ``[fields]``)."""
        keys = self.fields.get(field_name)
        return keys[0] if keys else field_name

    @functools.cached_property
    def key_lookup(self) -> dict[str, tuple[str, int]]:
        """Compared key → (field, rank): the keys of ``[fields]`` first, then the field's
        own name, then its synonyms."""
        lookup: dict[str, tuple[str, int]] = {}
        for name in FIELD_NAMES:
            for rank, keys in enumerate((self.fields.get(name, ()), (name,),
                                         FIELD_SYNONYMS.get(name, ()))):
                for key in keys:
                    lookup.setdefault(norm_key(key), (name, rank))
        return lookup

    @property
    def order(self) -> str:
        """How to read a date like 03/04/1990: date_order, else by language."""
        return self.date_order or ("DMY" if self.language == "de" else "MDY")


def field_keys(meta: Mapping[str, Any], config: Config) -> dict[str, str]:
    """Field → the key of ``meta`` that holds it, matched without case or separators
    and through the synonyms; front-matter beats a Dataview inline field ("::key")."""
    lookup = config.key_lookup
    best: dict[str, tuple[int, str]] = {}
    for key in meta:
        inline = key.startswith("::")
        hit = lookup.get(norm_key(key[2:] if inline else key))
        if hit is None:
            continue
        name, rank = hit
        rank += 10 if inline else 0
        if name not in best or rank < best[name][0]:
            best[name] = (rank, key)
    return {name: key for name, (_, key) in best.items()}


def _line_of(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^[ \t]*(\[{re.escape(key)}\]|{re.escape(key)}\s*=)", re.MULTILINE)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def parse_config(text: str, path: str = CONFIG_NAME) -> tuple[Config, list[Problem]]:
    """Parse config text; bad values fall back to defaults and are reported as errors."""
    problems: list[Problem] = []
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line_match = re.search(r"line (\d+)", str(exc))
        problems.append(Problem(
            path, int(line_match.group(1)) if line_match else None, "error", "config-syntax",
            f"the config is not valid TOML: {exc}", "fix the syntax, or delete the file to "
            "use the defaults"))
        return Config(), problems
    values: dict[str, Any] = {}
    for name, raw in data.items():
        key = KEYS_BY_NAME.get(name)
        if key is None:
            close = difflib.get_close_matches(name, KEYS_BY_NAME, n=1, cutoff=0.6)
            problems.append(Problem(
                path, _line_of(text, name), "warning", "config-unknown-key",
                f"unknown key {name!r} is ignored",
                f"did you mean {close[0]!r}?" if close else
                "known keys: " + ", ".join(KEYS_BY_NAME)))
            continue
        try:
            values[name] = key.parse(raw)
        except ValueError as exc:
            problems.append(Problem(
                path, _line_of(text, name), "error", "config-bad-value",
                f"{name} = {raw!r} is not valid: {exc}",
                "" if key.accepted in str(exc) else f"accepted: {key.accepted}"))
    return Config(**values), problems


def load_config(vault: Path) -> tuple[Config, list[Problem]]:
    path = vault / CONFIG_NAME
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config(), []
    except OSError as exc:
        return Config(), [Problem(CONFIG_NAME, None, "error", "config-unreadable",
                                  f"cannot read the config: {exc.strerror}", "check permissions")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Config(), [Problem(CONFIG_NAME, None, "error", "config-encoding",
                                  "the config is not UTF-8", "save it as UTF-8")]
    return parse_config(text, CONFIG_NAME)


def default_config_text() -> str:
    """The commented config file `init` writes: every key, its default and what it does."""
    lines = [
        "# vaultnetz configuration. Every key is optional; the values shown are the defaults.",
        "# Remove the leading '#' of a line to change a value.",
        "",
    ]
    tables: list[str] = []
    for key in KEYS:
        example = key.example or f"{key.name} = {_toml_value(key.default)}"
        block = [f"# {key.help}", f"# Accepted: {key.accepted}."]
        block += [line if line.startswith("#") else f"# {line}" for line in example.splitlines()]
        # Tables must come after the plain keys in TOML.
        (tables if example.startswith("[") else lines).extend([*block, ""])
    return "\n".join(lines + tables).rstrip("\n") + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:_}" if value >= 10_000 else str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(value)  # pragma: no cover
