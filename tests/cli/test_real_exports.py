"""Imports of exports as real programs write them (tests/data/imports/real/): Outlook 2003
and 2007 (vCard 2.1, quoted-printable, Windows-1252), Android (QP soft breaks inside UTF-8
characters, base64 photos), iPhone (grouped item1.EMAIL, an organisation card, Apple's
year-less 1604 birthday), vCard 4.0 (tel: URIs, KIND:org), Lotus Notes (PROFILE, a card
without END:VCARD among 16 good ones), LinkedIn (deleted accounts, same names) and an old
Google CSV (same name, different phones)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import vobject

from conftest import DATA, run_cli

REAL = DATA / "imports" / "real"


def show(root: Path, name: str) -> dict[str, object]:
    result = run_cli(["show", name, "--json"], root)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def summary(text: str) -> dict[str, int]:
    counts = text.strip().splitlines()[-1].split(";")[0]
    return {part.split(" ", 1)[1]: int(part.split(" ", 1)[0]) for part in counts.split(", ")}


@pytest.fixture
def vault(make_vault) -> Path:
    return make_vault({"vaultnetz.toml": 'phone_region = "DE"\n',
                       "People/Someone Else.md": "---\nemail: someone@example.org\n---\n"})


def test_outlook_2003_quoted_printable_windows_1252(vault: Path) -> None:
    result = run_cli(["import", "vcard", str(REAL / "outlook-2003.vcf")], vault)
    assert result.exit_code == 0, result.output
    j = show(vault, "Jürgen Müller")
    assert (j["company"], j["department"], j["role"]) == ("Company, The", "TheDepartment",
                                                         "Leiter Einkauf")
    assert j["phone"] == ["(089) 123 456-0", "0171 2345678"]
    assert j["city"] == "München"
    text = next((vault / "People").glob("*Müller.md")).read_text()
    assert "Kennengelernt auf der Messe in Köln.\nMag guten Kaffee, spricht gern über Fußball." \
        in text


def test_outlook_2007_long_note_comma_name_and_website(vault: Path) -> None:
    result = run_cli(["import", "vcard", str(REAL / "outlook-2007.vcf")], vault)
    assert result.exit_code == 0, result.output
    john = show(vault, "Mr. John Richter, James Doe Sr.")
    assert john["aliases"] == ["Johnny"]
    assert john["website"] == ["http://www.example.com/john"]
    assert john["birthday"] == "1970-02-23"
    text = (vault / john["path"]).read_text()  # type: ignore[operator]
    assert ("every 76 characters or so, and it goes on, and still keeps going.\nSecond line."
            in text)
    assert "Hi John," in john["draft"]  # type: ignore[operator]
    assert show(vault, "johnny")["path"] == john["path"]  # the nickname finds him


def test_android_soft_break_inside_a_character_and_a_phone_number_as_name(vault: Path
                                                                          ) -> None:
    result = run_cli(["import", "vcard", str(REAL / "android.vcf")], vault)
    assert result.exit_code == 0, result.output
    ozlem = show(vault, "oezlem")  # umlauts written out
    assert ozlem["name"] == "Özlem Yıldız"
    assert ozlem["company"] == "Correctiv – Recherchen für die Gesellschaft"
    assert show(vault, "ozlem")["path"] == ozlem["path"]  # and without the dots
    number = show(vault, "+918686235803")
    assert number["draft"].startswith("Hi, ")  # type: ignore[union-attr]
    assert "+918686235803," not in number["draft"]  # type: ignore[operator]


def test_iphone_groups_organisation_cards_and_yearless_birthdays(vault: Path) -> None:
    result = run_cli(["import", "vcard", str(REAL / "iphone.vcf")], vault)
    assert result.exit_code == 0, result.output
    assert "skipped line 24: an organisation, not a person (Deutsche Bahn Kundenservice)" \
        in result.stdout
    assert summary(result.stderr) == {"new": 1, "matched": 0, "merged": 0,
                                      "possible duplicates": 0, "skipped": 1}
    eva = show(vault, "klein")  # any name part finds her
    assert eva["name"] == "Dr. Eva Klein"
    assert eva["email"] == ["eva.klein@example.org", "evi@example.net"]
    assert (eva["company"], eva["department"]) == ("Universitätsklinikum Leipzig", "Kardiologie")
    assert eva["birthday"] == "--03-14"
    assert eva["linkedin"] == "https://www.linkedin.com/in/eva-klein-leipzig/"
    assert eva["tags"] == ["person", "wissenschaft", "leipzig"]
    assert eva["aliases"] == ["Evi"]
    assert show(vault, "eva")["path"] == eva["path"]
    assert eva["draft"].startswith("Hi Eva, ")  # type: ignore[union-attr]


def test_vcard_4_tel_uri_folded_note_and_kind_org(vault: Path) -> None:
    result = run_cli(["import", "vcard", str(REAL / "v4.vcf")], vault)
    assert result.exit_code == 0, result.output
    lukas = show(vault, "Lukas Hoffmann")
    assert lukas["phone"] == ["+1-418-656-9254 ext. 102"]
    assert lukas["birthday"] == "--05-27"
    text = (vault / lukas["path"]).read_text()  # type: ignore[operator]
    assert "as RFC 6350 says it should be, and still keeps going." in text
    assert "skipped line 14: an organisation, not a person (ACME GmbH)" in result.stdout


def test_a_broken_card_is_skipped_with_its_line_and_the_others_are_imported(vault: Path
                                                                             ) -> None:
    before = {p.name for p in (vault / "People").iterdir()}
    result = run_cli(["import", "vcard", str(REAL / "lotus-17.vcf")], vault)
    assert result.exit_code == 0, result.output
    assert "skipped line 57: not a vCard: the card has no END:VCARD" in result.stdout
    assert summary(result.stderr) == {"new": 16, "matched": 0, "merged": 0,
                                      "possible duplicates": 0, "skipped": 1}
    added = {p.name for p in (vault / "People").iterdir()} - before
    assert len(added) == 16 and "Clara Schneider.md" in added
    assert all(line.count(":") < 2 for line in result.stderr.splitlines())  # no vobject noise
    again = run_cli(["import", "vcard", str(REAL / "lotus-17.vcf")], vault)
    assert summary(again.stderr) == {"new": 0, "matched": 16, "merged": 0,
                                     "possible duplicates": 0, "skipped": 1}


def test_linkedin_keeps_same_names_apart_and_counts_deleted_accounts(vault: Path) -> None:
    (vault / "People" / "Jason Smith.md").write_text(
        "---\nlinkedin: https://www.linkedin.com/in/jason-smith-4711/\ncity: Leeds\n---\n")
    (vault / "People" / "Anna Berger.md").write_text(
        "---\nlinkedin: https://www.linkedin.com/in/anna-berger-123\n---\n## Log\n"
        "- 2026-10-01 Coffee\n")
    result = run_cli(["import", "linkedin", str(REAL / "Connections.csv")], vault)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "matched People/Jason Smith.md (same LinkedIn profile: Jason Smith)" in out
    assert "create People/Jason RM Smith.md" in out  # a middle name counts: not Jason Smith
    assert "matched People/Anna Berger.md (same LinkedIn profile: Anna Berger)" in out
    assert out.count("no name (a deleted or hidden LinkedIn account)") == 2
    assert summary(result.stderr) == {"new": 3, "matched": 2, "merged": 0,
                                      "possible duplicates": 0, "skipped": 2}
    jason_rm = show(vault, "Jason RM Smith")
    assert (jason_rm["company"], jason_rm["linkedin"]) == (
        "Smith Ventures", "https://www.linkedin.com/in/jasonrmsmith")
    assert jason_rm["met_via"] == "LinkedIn"
    assert "connected on LinkedIn" in jason_rm["draft"]  # type: ignore[operator]
    assert "2021" not in jason_rm["draft"]  # type: ignore[operator]
    maria = show(vault, "María José García López")
    assert (maria["company"], maria["role"]) == ("Periódico, S.A.", "Editora, Internacional")
    assert show(vault, "maria jose")["path"] == maria["path"]
    again = run_cli(["import", "linkedin", str(REAL / "Connections.csv")], vault)
    assert summary(again.stderr) == {"new": 0, "matched": 5, "merged": 0,
                                     "possible duplicates": 0, "skipped": 2}


def test_two_people_with_one_name_and_different_profiles_are_two_notes(make_vault,
                                                                         tmp_path: Path) -> None:
    root = make_vault({"People/Someone.md": "x"})
    csv_file = tmp_path / "Connections.csv"
    csv_file.write_text(
        "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
        "Jason,Smith,https://www.linkedin.com/in/js-1,,Acme,CEO,1 Jan 2020\n"
        "Jason,Smith,https://www.linkedin.com/in/js-2,,Leeds University,Professor,1 Jan 2021\n")
    result = run_cli(["import", "linkedin", str(csv_file)], root)
    assert "create People/Jason Smith.md" in result.stdout
    assert ("create People/Jason Smith (Leeds University).md  (Leeds University); possible "
            "duplicate of People/Jason Smith.md (same file name)") in result.stdout
    assert summary(result.stderr) == {"new": 1, "matched": 0, "merged": 0,
                                      "possible duplicates": 1, "skipped": 0}
    again = run_cli(["import", "linkedin", str(csv_file)], root)
    assert summary(again.stderr)["matched"] == 2 and summary(again.stderr)["new"] == 0


def test_google_same_name_different_phones_and_an_unusable_birthday(vault: Path) -> None:
    result = run_cli(["import", "google", str(REAL / "google-old.csv")], vault)
    assert result.exit_code == 0, result.output
    # Rows 2 and 4 share a phone (+49 171 1000001 = 0171 1000001 in DE); row 3 has another.
    assert "merged line 4 (Thomas Müller) into it" in result.stdout
    assert summary(result.stderr) == {"new": 3, "matched": 0, "merged": 1,
                                      "possible duplicates": 1, "skipped": 2}
    assert "skipped line 7: an organisation, not a person (Stadtwerke Berlin)" in result.stdout
    assert "skipped line 8: no name" in result.stdout
    assert ("line 9: birthday 'sometime in spring' not understood; left out (Kai Becker)"
            in result.stdout)
    sabine = show(vault, "Sabine Wolf")
    assert sabine["company"] == "Stadt Frankfurt, Presseamt"
    assert sabine["department"] == "Kommunikation"
    assert sabine["linkedin"] == "https://www.linkedin.com/in/sabinewolf"
    assert sabine["tags"] == ["person", "presse"]
    notes = sorted(p.name for p in (vault / "People").glob("Thomas*"))
    assert len(notes) == 2
    first = show(vault, "Thomas Müller")
    assert first["email"] == ["tm@example.de"]
    assert first["phone"] == ["+49 171 1000001", "0171 1000001"]


@pytest.mark.parametrize(("given", "file", "looks_like"), [
    ("google", REAL / "Connections.csv", "looks like a LinkedIn Connections.csv"),
    ("linkedin", REAL / "google-old.csv", "looks like a Google Contacts CSV"),
    ("vcard", REAL / "google-old.csv", "looks like a Google Contacts CSV"),
    ("google", REAL / "iphone.vcf", "looks like a vCard file"),
])
def test_a_file_of_another_kind_is_an_error_naming_what_it_is(vault: Path, given: str,
                                                              file: Path, looks_like: str
                                                              ) -> None:
    before = sorted(p.name for p in (vault / "People").iterdir())
    result = run_cli(["import", given, str(file)], vault)
    assert result.exit_code == 1
    assert looks_like in result.stderr and "nothing was imported" in result.stderr
    assert sorted(p.name for p in (vault / "People").iterdir()) == before


def test_every_record_is_accounted_for(vault: Path) -> None:
    for source, name, records in (("vcard", "iphone.vcf", 2), ("vcard", "lotus-17.vcf", 17),
                                  ("linkedin", "Connections.csv", 7),
                                  ("google", "google-old.csv", 7), ("vcard", "v4.vcf", 2),
                                  ("vcard", "android.vcf", 2)):
        result = run_cli(["import", source, str(REAL / name), "--dry-run"], vault)
        assert sum(summary(result.stderr.replace("dry run: ", "")).values()) == records, name


def test_export_round_trip_keeps_fields_and_body(vault: Path, tmp_path: Path) -> None:
    for name in ("iphone.vcf", "outlook-2003.vcf", "outlook-2007.vcf", "v4.vcf"):
        assert run_cli(["import", "vcard", str(REAL / name)], vault).exit_code == 0
    out = tmp_path / "out.vcf"
    assert run_cli(["export", "vcard", "-o", str(out)], vault).exit_code == 0
    text = out.read_text()
    cards = {c.fn.value: c for c in vobject.readComponents(text)}
    eva = cards["Dr. Eva Klein"]
    assert (eva.n.value.family, eva.n.value.given, eva.n.value.prefix) == ("Klein", "Eva", "Dr.")
    assert eva.org.value == ["Universitätsklinikum Leipzig", "Kardiologie"]
    john = cards["Mr. John Richter, James Doe Sr."]
    assert (john.n.value.family, john.n.value.given, john.n.value.suffix) == (
        "Doe", "John", "Sr.")
    assert john.org.value == ["Tree Company"]
    assert "tel:" not in text and "\\;ext=" not in text
    assert "ext. 102" in cards["Lukas Hoffmann"].tel.value
    fresh = tmp_path / "fresh"
    shutil.copytree(vault, fresh)
    for note in (fresh / "People").glob("*.md"):
        if note.name != "Someone Else.md":
            note.unlink()
    assert run_cli(["import", "vcard", str(out)], fresh).exit_code == 0
    for person in ("Dr. Eva Klein", "Dr. Jürgen Müller", "Lukas Hoffmann",
                   "Mr. John Richter, James Doe Sr."):
        a, b = show(vault, person), show(fresh, person)
        for key in ("email", "phone", "company", "department", "role", "city", "birthday",
                    "linkedin", "website", "aliases", "met_via"):
            assert a[key] == b[key], (person, key)
        body = (vault / a["path"]).read_text().split("---\n", 2)[2]  # type: ignore[operator]
        assert (fresh / b["path"]).read_text().split("---\n", 2)[2] == body  # type: ignore[operator]
    # The same note in another vault gets another UID.
    other = run_cli(["export", "vcard"], fresh).stdout
    uids = {line for line in text.splitlines() if line.startswith("UID:")}
    assert not uids & {line for line in other.splitlines() if line.startswith("UID:")}


def test_export_writes_no_markdown_in_org_and_title(make_vault) -> None:
    root = make_vault({"People/Ann.md": "---\ncompany: \"[[Tree Company]]\"\n"
                                        "role: \"**Head** of [things](https://x.org)\"\n---\n"})
    text = run_cli(["export", "vcard"], root).stdout_bytes.decode()
    assert "ORG:Tree Company\r\n" in text and "TITLE:Head of things\r\n" in text


def test_an_import_of_1500_people_moves_no_existing_check_in(tmp_path: Path) -> None:
    from conftest import SAMPLE

    vault = tmp_path / "vault"
    shutil.copytree(SAMPLE, vault)
    args = ["--today", "2026-11-23"]
    before = {d["name"]: d["due"] for d in json.loads(
        run_cli([*args, "due", "--all", "--json"], vault).stdout)}
    rows = ["First Name,Last Name,URL,Email Address,Company,Position,Connected On"]
    rows += [f"Person{i:04d},Imported,https://www.linkedin.com/in/p{i},,Firma {i % 50},"
             f"Role,1 Jan 2024" for i in range(1500)]
    csv_file = tmp_path / "Connections.csv"
    csv_file.write_text("\n".join(rows) + "\n")
    result = run_cli([*args, "import", "linkedin", str(csv_file)], vault)
    assert summary(result.stderr)["new"] == 1500
    after = json.loads(run_cli([*args, "due", "--all", "--json"], vault).stdout)
    dues = {d["name"]: d["due"] for d in after}
    assert {name: dues[name] for name in before} == before  # nobody you know moved
    imported = sorted(d["due"] for d in after if d["name"].startswith("Person"))
    assert len(imported) == 1500
    per_day: dict[str, int] = {}
    for d in after:
        per_day[d["due"]] = per_day.get(d["due"], 0) + 1
    assert max(per_day.values()) <= 3  # max_per_day: a drip, known people first each day
