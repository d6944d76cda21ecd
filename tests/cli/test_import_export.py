"""import linkedin|google|vcard and export vcard, on fixture files in the real formats."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import vobject

from conftest import DATA, SAMPLE, contact_note, run_cli

FILES = DATA / "imports"


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    target = tmp_path / "vault"
    shutil.copytree(SAMPLE, target)
    return target


def hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file()}


def show(root: Path, name: str) -> dict[str, object]:
    result = run_cli(["show", name, "--json"], root)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize(("source", "file"), [("linkedin", "Connections.csv"),
                                              ("google", "contacts-google.csv"),
                                              ("vcard", "contacts.vcf")])
def test_dry_run_writes_nothing(vault: Path, source: str, file: str) -> None:
    before = hashes(vault)
    result = run_cli(["import", source, str(FILES / file), "--dry-run", "--merge"], vault)
    assert result.exit_code == 0, result.output
    assert "nothing was written" in result.stderr
    assert hashes(vault) == before


def test_linkedin_import_maps_fields_and_is_idempotent(vault: Path) -> None:
    before = hashes(vault)
    result = run_cli(["import", "linkedin", str(FILES / "Connections.csv"), "--tag",
                      "linkedin-2026"], vault)
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == (
        "2 new, 2 matched, 0 merged, 0 possible duplicates, 0 skipped")
    after = hashes(vault)
    assert {k: v for k, v in after.items() if k in before} == before  # no existing note touched
    assert sorted(set(after) - set(before)) == ["People/Neue Person.md", "People/Özlem Yıldız.md"]
    ozlem = show(vault, "Özlem")
    assert ozlem["email"] == ["oezlem@example.net"]
    assert (ozlem["company"], ozlem["role"]) == ("Correctiv", "Reporterin")
    assert ozlem["linkedin"] == "https://www.linkedin.com/in/oezlem"
    assert ozlem["met_via"] == "LinkedIn"
    assert "linkedin_connected: 2024-02-01" in (vault / "People" / "Özlem Yıldız.md").read_text()
    assert ozlem["tags"] == ["person", "linkedin", "linkedin-2026"]
    assert ozlem["cadence"] == "6m" and ozlem["last_contact"] is None
    assert ozlem["check_in"]["reason"] == "never"  # type: ignore[index]
    neue = show(vault, "Neue Person")
    assert neue["company"] == 'Verlag "Morgen" GmbH'
    assert neue["email"] == []
    assert run_cli(["check"], vault).exit_code == 0
    again = run_cli(["import", "linkedin", str(FILES / "Connections.csv")], vault)
    assert again.stderr.strip() == (
        "0 new, 4 matched, 0 merged, 0 possible duplicates, 0 skipped")
    assert hashes(vault) == after


def test_google_import(vault: Path, tmp_path: Path) -> None:
    (vault / "People" / "Dr. Miriam Kühn.md").unlink()
    result = run_cli(["import", "google", str(FILES / "contacts-google.csv")], vault)
    assert result.exit_code == 0, result.output
    miriam = show(vault, "Miriam Kühn")
    assert miriam["email"] == ["miriam.kuehn@example.org", "miri@example.net"]
    assert miriam["phone"] == ["+49 170 1111111", "+49 341 2222"]
    assert (miriam["company"], miriam["role"], miriam["city"]) == (
        "Universität Leipzig", "Postdoc", "Leipzig")
    assert miriam["birthday"] == "1980-05-02"
    assert miriam["tags"] == ["person", "science", "friends"]
    text = (vault / "People" / "Miriam Kühn.md").read_text()
    assert "Met at the DVPW conference." in text and "Likes long walks." in text
    # Another middle name is another person unless something else says so: a note of its
    # own, listed as a possible duplicate.
    assert ("create People/Lea Maria Wagner.md  (lea.wagner@example.org, Tagesspiegel "
            "Background, Berlin); possible duplicate of People/Studium/Lea Wagner.md (same "
            "first and last name, another middle name)") in result.stdout
    assert run_cli(["check"], vault).exit_code == 0


def test_vcard_import_with_merge_adds_only_missing_fields(vault: Path) -> None:
    katrin = vault / "People" / "Volontariat" / "Katrin Schulz.md"
    before = katrin.read_bytes()
    result = run_cli(["import", "vcard", str(FILES / "contacts.vcf"), "--merge"], vault)
    assert result.exit_code == 0, result.output
    assert "2 matched" in result.stderr
    assert "2 matched notes got fields they lacked" in result.stderr
    after = katrin.read_bytes()
    # Only new lines, before the closing ---; nothing the user wrote changed.
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added == [b'birthday: "1988-11-02"',
                     b'email: [katrin.schulz@example.org, katrin@example.net]',
                     b"phone: [+49 171 3333333, +49 89 4444]"]
    assert after.replace(b"\n".join(added) + b"\n", b"") == before
    state = show(vault, "Katrin Schulz")
    assert state["company"] == "Bayerischer Rundfunk"  # already there: kept as it was
    assert state["birthday"] == "1988-11-02"
    paul = show(vault, "Paul Zimmermann")
    assert paul["birthday"] == "--07-14"
    assert paul["linkedin"] == "https://www.linkedin.com/in/paulz"
    assert run_cli(["check"], vault).exit_code == 0
    assert run_cli(["import", "vcard", str(FILES / "contacts.vcf"), "--merge"],
                   vault).stderr.strip() == ("0 new, 2 matched, 0 merged, 0 possible duplicates, "
                                             "0 skipped; 0 matched notes got fields they lacked")


def test_vcard_new_contacts(make_vault) -> None:
    root = make_vault({"People/Someone.md": "x"})
    result = run_cli(["import", "vcard", str(FILES / "contacts.vcf")], root)
    assert result.stderr.strip() == (
        "2 new, 0 matched, 0 merged, 0 possible duplicates, 0 skipped")
    katrin = show(root, "Katrin Schulz")
    assert katrin["tags"] == ["person", "volontariat", "radio"]
    assert katrin["city"] == "München"
    assert katrin["role"] == "Reporterin"
    text = (root / "People" / "Katrin Schulz.md").read_text()
    assert "documentary about rural hospitals" in text
    assert "PHOTO" not in text and "/9j/" not in text


def test_a_person_in_two_sources_is_one_contact(make_vault, tmp_path: Path) -> None:
    root = make_vault({"People/Someone.md": "x"})
    vcf = tmp_path / "a.vcf"
    vcf.write_text("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Anna Berger\r\nN:Berger;Anna;;;\r\n"
                   "EMAIL:anna.berger@example.org\r\nTEL:+49 1\r\nEND:VCARD\r\n"
                   "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Anna Berger\r\nN:Berger;Anna;;;\r\n"
                   "ORG:Tagblatt\r\nEND:VCARD\r\n")
    run_cli(["import", "vcard", str(vcf)], root)
    run_cli(["import", "linkedin", str(FILES / "Connections.csv")], root)
    names = [i["name"] for i in json.loads(run_cli(["due", "--all", "--json"], root).stdout)]
    assert names.count("Anna Berger") == 1
    anna = show(root, "Anna Berger")
    assert anna["company"] == "Tagblatt" and anna["phone"] == ["+49 1"]


@pytest.mark.parametrize(
    ("source", "content", "message"),
    [
        ("linkedin", "Name,Email,Phone\nA,b,c\n",
         "is not a LinkedIn Connections.csv: it looks like a CSV file with the columns Name"),
        ("google", "foo,bar,baz\n1,2,3\n", "is not a Google Contacts CSV"),
        ("vcard", "First Name,Last Name\n", "is not a vCard file (.vcf)"),
        ("linkedin", "", "neither a CSV export nor a vCard file"),
    ],
)
def test_wrong_format_is_a_clear_error(make_vault, tmp_path: Path, source: str, content: str,
                                       message: str) -> None:
    root = make_vault({"People/A.md": "x"})
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    result = run_cli(["import", source, str(bad)], root)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_export_holds_every_active_contact_and_round_trips(vault: Path, tmp_path: Path) -> None:
    out = tmp_path / "contacts.vcf"
    result = run_cli(["export", "vcard", "-o", str(out)], vault)
    assert result.exit_code == 0
    cards = list(vobject.readComponents(out.read_text()))
    active = [i["name"] for i in json.loads(run_cli(["due", "--all", "--json"], vault).stdout)]
    one_sided = ["Tobias Schröder"]  # active but without reminders: still exported
    assert sorted(c.fn.value for c in cards) == sorted(active + one_sided)
    for card in cards:
        assert card.version.value == "4.0"
        card.validate() if hasattr(card, "validate") else None
    anna = next(c for c in cards if c.fn.value == "Anna Berger")
    assert anna.email.value == "anna.berger@example.org"
    assert anna.bday.value == "19840314"
    assert anna.adr.value.city == "München"
    assert "obsidian://open?vault=vault&file=People%2FAnna%20Berger" in anna.note.value
    # round trip: a new vault from the export has the same fields
    fresh = tmp_path / "fresh"
    (fresh / "People").mkdir(parents=True)
    (fresh / "People" / "Placeholder.md").write_text(contact_note("status: archived"))
    assert run_cli(["import", "vcard", str(out)], fresh).exit_code == 0
    for name in ("Anna Berger", "Jonas Weber", "Elif Yılmaz", "Lea Wagner"):
        a, b = show(vault, name), show(fresh, name)
        for key in ("email", "phone", "company", "role", "city", "birthday", "met_via"):
            assert a[key] == b[key], (name, key)
        assert set(a["tags"]) - {"person"} <= set(b["tags"])  # type: ignore[arg-type]


def test_linkedin_with_quoted_header_and_crlf(make_vault, tmp_path: Path) -> None:
    root = make_vault({"People/Someone.md": "x"})
    csv_file = tmp_path / "Connections.csv"
    csv_file.write_bytes(
        b"\xef\xbb\xbfNotes:\r\n\"Some text, with a comma\"\r\n\r\n"
        b'"First Name","Last Name","URL","Email Address","Company","Position","Connected On"\r\n'
        b'"Zo\xc3\xab","M\xc3\xbcller","https://www.linkedin.com/in/zoe","","ACME","CTO",'
        b'"7 Nov 2022"\r\n')
    result = run_cli(["import", "linkedin", str(csv_file)], root)
    assert result.exit_code == 0, result.output
    zoe = show(root, "Zoë Müller")
    assert zoe["met_via"] == "LinkedIn"
    assert zoe["role"] == "CTO"
