"""Shared test helpers. Tests never touch the real date, the network or the user's home."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from vaultnetz.cli import main
from vaultnetz.config import Config, parse_config
from vaultnetz.contacts import Vault
from vaultnetz.load import load_vault
from vaultnetz.model import Schedule
from vaultnetz.schedule import schedule

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample-vault"
DATA = Path(__file__).resolve().parent / "data"
TODAY = date(2026, 11, 23)
FIXED_MTIME = 1_790_000_000  # 2026-09-21, so feeds built from copied vaults are reproducible


@pytest.fixture(autouse=True)
def _isolate(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    for name in list(os.environ):
        if name.startswith("VAULTNETZ_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("VAULTNETZ_TEST", "1")
    # Notes written by a test a moment ago are not mid-save: no test waits for them to be
    # quiet, except those about editors saving (tests/integration/test_editors.py).
    monkeypatch.setattr("vaultnetz.atomic.QUIET_NS", 0)


def write_vault(root: Path, files: Mapping[str, str | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))
    return root


def freeze_mtimes(root: Path, when: int = FIXED_MTIME) -> None:
    for folder, _, names in os.walk(root):
        for name in names:
            os.utime(os.path.join(folder, name), (when, when))


@pytest.fixture
def make_vault(tmp_path: Path) -> Callable[..., Path]:
    def make(files: Mapping[str, str | bytes], name: str = "vault") -> Path:
        return write_vault(tmp_path / name, files)

    return make


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    target = tmp_path / "sample-vault"
    shutil.copytree(SAMPLE, target)
    freeze_mtimes(target)
    return target


def plan_for(root: Path, today: date = TODAY, config_text: str | None = None
             ) -> tuple[Vault, Schedule]:
    config: Config | None = None
    if config_text is not None:
        config, problems = parse_config(config_text)
        assert not problems, problems
    vault = load_vault(root, config)
    return vault, schedule(vault.contacts, today, vault.config)


def run_cli(args: list[str], vault: Path | None = None, today: date | None = TODAY,
            input: str | None = None) -> Result:
    prefix: list[str] = []
    if vault is not None:
        prefix += ["--vault", str(vault)]
    if today is not None:
        prefix += ["--today", today.isoformat()]
    return CliRunner().invoke(main, prefix + args, input=input, catch_exceptions=False)


def contact_note(front: str = "", body: str = "") -> str:
    return f"---\n{front.strip()}\n---\n{body}"


# Every kind of change a vault sees, for the tests of what the cache keeps.
VAULT_CHANGES = ["edit", "same-size-edit", "touch", "delete", "rename", "add", "config"]


def change_vault(root: Path, note: Path, change: str) -> None:
    """Make one of VAULT_CHANGES: ``note`` rewritten, edited keeping its size (a digit
    changed, the mtime moved on), touched, deleted or renamed; a contact added; the config
    replaced by one with another default cadence."""
    st = note.stat()
    if change == "edit":
        note.write_text(contact_note("name: Changed\ncadence: 2w"), encoding="utf-8")
    elif change == "same-size-edit":
        text = note.read_text(encoding="utf-8")
        at = next(i for i, c in enumerate(text) if c.isdigit())
        note.write_text(f"{text[:at]}{(int(text[at]) + 1) % 10}{text[at + 1:]}",
                        encoding="utf-8")
        os.utime(note, ns=(st.st_atime_ns, st.st_mtime_ns + 100_000_000_000))
    elif change == "touch":
        os.utime(note, ns=(st.st_atime_ns, st.st_mtime_ns + 500_000_000_000))
    elif change == "delete":
        note.unlink()
    elif change == "rename":
        note.rename(note.with_name("Renamed.md"))
    elif change == "add":
        (root / "People" / "Cem.md").write_text(contact_note("cadence: 2w"), encoding="utf-8")
    else:
        assert change == "config"
        (root / "vaultnetz.toml").write_text('default_cadence = "5w"\n', encoding="utf-8")
