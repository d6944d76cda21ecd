"""vaultnetz: a folder of Markdown notes as a personal contact manager.

The library is what the CLI uses; a script can do the same::

    from datetime import date
    from pathlib import Path
    import vaultnetz

    vault = vaultnetz.load_vault(Path("~/Notes").expanduser())
    plan = vaultnetz.schedule(vault.contacts, date.today(), vault.config)
    for check_in in plan.check_ins:
        print(check_in.due, check_in.contact.name, check_in.reason)

    feed = vaultnetz.vault_feed(Path("~/Notes").expanduser(), date.today())
    Path("check-ins.ics").write_bytes(feed.data)
"""

from __future__ import annotations

from .config import Config, load_config, parse_config
from .contacts import Vault
from .errors import VaultnetzError
from .index import find_vault
from .load import load_vault
from .model import Birthday, Cadence, CheckIn, Contact, Interaction, Problem, Schedule, Standing
from .names import find_contact
from .schedule import review, schedule, standing_of
from .version import __version__

_LAZY = {"Feed", "build_calendar", "vault_feed"}  # the feed module: imported when used


def __getattr__(name: str) -> object:
    if name in _LAZY:
        from . import feed

        return getattr(feed, name)
    raise AttributeError(f"module 'vaultnetz' has no attribute {name!r}")


__all__ = [
    "Birthday",
    "Cadence",
    "CheckIn",
    "Config",
    "Contact",
    "Feed",
    "Interaction",
    "Problem",
    "Schedule",
    "Standing",
    "Vault",
    "VaultnetzError",
    "__version__",
    "build_calendar",
    "find_contact",
    "find_vault",
    "load_config",
    "load_vault",
    "parse_config",
    "review",
    "schedule",
    "standing_of",
    "vault_feed",
]
