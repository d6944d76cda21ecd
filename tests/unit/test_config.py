import re

from vaultnetz.config import KEYS, Config, default_config_text, parse_config
from vaultnetz.model import Cadence


def test_empty_config_is_all_defaults() -> None:
    config, problems = parse_config("")
    assert config == Config()
    assert problems == []


def test_every_key_is_in_the_init_file_and_uncommenting_gives_the_defaults() -> None:
    text = default_config_text()
    for key in KEYS:
        assert re.search(rf"^# \[?{key.name}\b", text, re.MULTILINE), key.name
    # Uncomment the example lines (those that look like TOML: `key = …` or `[table]`).
    active = "\n".join(
        line[2:] if re.match(r"^# (\[\w+\]$|\w+ = )", line) else line
        for line in text.splitlines()
    )
    config, problems = parse_config(active)
    assert [p for p in problems if p.severity == "error"] == []
    assert config.max_per_day == Config().max_per_day
    assert config.default_cadence == Config().default_cadence
    assert config.people_folders == ("People",)
    for key in KEYS:
        if not isinstance(key.default, dict):  # tables show examples, not defaults
            assert getattr(config, key.name) == key.default, key.name


def test_unknown_key_is_a_warning_with_its_line() -> None:
    config, problems = parse_config('max_per_day = 2\nmax_per_dya = 5\n')
    assert config.max_per_day == 2
    [problem] = problems
    assert problem.severity == "warning"
    assert problem.line == 2
    assert "max_per_dya" in problem.message


def test_bad_value_is_an_error_naming_key_value_and_accepted_forms() -> None:
    _, problems = parse_config('\n\ndefault_cadence = "sometimes"\nmax_per_day = 0\n')
    assert [p.severity for p in problems] == ["error", "error"]
    first, second = problems
    assert first.line == 3
    assert "default_cadence" in first.message and "sometimes" in first.message
    assert "3m" in first.message + first.hint
    assert second.line == 4
    assert "max_per_day = 0" in second.message
    assert "at least 1" in second.message + second.hint


def test_invalid_toml_is_an_error_with_a_line() -> None:
    _, problems = parse_config("max_per_day = 3\nthis is not toml\n")
    [problem] = problems
    assert problem.code == "config-syntax"
    assert problem.line == 2


def test_tables() -> None:
    config, problems = parse_config(
        '[cadence_by_tag]\nmentor = "6w"\n"#alumni" = "yearly"\n[fields]\nlast_contact = "seen"\n'
    )
    assert problems == []
    assert config.cadence_by_tag == {"mentor": Cadence(42, "days", "6w"),
                                     "alumni": Cadence(12, "months", "yearly")}
    assert config.key("last_contact") == "seen"
    assert config.key("city") == "city"


def test_unknown_field_in_fields_table_is_an_error() -> None:
    _, problems = parse_config('[fields]\nbirthdate = "bday"\n')
    assert problems[0].severity == "error"
    assert "birthdate" in problems[0].message
