"""The README's tour shows real output: each read-only example is run and compared."""

from __future__ import annotations

import re
import shlex

import pytest

from conftest import REPO, SAMPLE, TODAY, run_cli

README = (REPO / "README.md").read_text(encoding="utf-8")
PREFIX = "$ vaultnetz --vault sample-vault --today 2026-11-23 "
READ_ONLY = {"due", "show", "review", "stats", "near", "list"}
EXAMPLES = [
    (command, output)
    for block in re.findall(r"```console\n(.*?)```", README, re.S)
    for command, output in re.findall(r"^(\$ vaultnetz [^\n]*)\n(.*?)(?=^\$ |\Z)", block,
                                      re.S | re.M)
    if command.startswith(PREFIX) and command[len(PREFIX):].split()[0] in READ_ONLY
]


def test_the_tour_has_examples() -> None:
    assert len(EXAMPLES) >= 6


@pytest.mark.parametrize(("command", "output"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_readme_example_output_is_real(command: str, output: str) -> None:
    args = shlex.split(command[len(PREFIX):])
    result = run_cli(["--no-cache", *args], SAMPLE, today=TODAY)
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip() == output.rstrip()


def test_the_library_example_runs(tmp_path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    import vaultnetz

    section = README.split("## As a library", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    source = code.group(1).replace('Path("~/Notes")', f"Path({str(SAMPLE)!r})").replace(
        "date.today()", "date(2026, 11, 23)")
    monkeypatch.chdir(tmp_path)
    exec(compile(source, "README.md", "exec"), {})
    assert capsys.readouterr().out.count("\n") >= 5
    assert (tmp_path / "check-ins.ics").read_bytes().startswith(b"BEGIN:VCALENDAR\r\n")
    assert all(getattr(vaultnetz, name) is not None for name in vaultnetz.__all__)
