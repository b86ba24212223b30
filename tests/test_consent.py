"""Photo consent: importing each MIS export, answering in chat and on the command line.

The exports are generated here, small and realistic, rather than committed as files.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import col, select

from tests.conftest import School_, make_school, run_cli, text_of
from workflows.audit.models import AuditEvent
from workflows.consent import matching, service
from workflows.consent.formats import BUILTIN, mapping_from_dict
from workflows.consent.importer import ImportRefused, import_consents
from workflows.consent.models import Consent, ConsentChange, ConsentImport, Pupil
from workflows.database import make_engine, session_scope, upgrade
from workflows.notifications.models import Notification
from workflows.people.models import Person
from workflows.schools.models import School

# (mis id, first, last, preferred, year, class, dob, no photos, date, by, website, social)
PUPILS = [
    ("1001", "Amelia", "Smith", "", "4", "4B", "2017-03-02", False, "2026-09-05", "Mother",
     "given", "given"),
    ("1002", "Oliver", "Jones", "Olly", "4", "4B", "2017-05-11", False, "2026-09-05", "Father",
     "refused", "refused"),
    ("1003", "Zoë", "Brown", "", "4", "4B", "2016-11-30", False, "2026-09-06", "Mother",
     "given", "withdrawn"),
    ("1004", "Harry", "Patel", "", "4", "4B", "2017-01-15", False, "2024-09-04", "Mother",
     "given", "given"),  # older than 12 months: expired
    ("1005", "Grace", "Taylor", "", "4", "4B", "2017-02-20", True, "2026-09-05", "Carer",
     "given", "given"),  # safeguarding flag
    ("1006", "Amelia", "Khan", "", "5", "5A", "2016-04-01", False, "", "", "not_asked",
     "not_asked"),
]
WORDS = {
    "sims": {"given": "Yes", "refused": "No", "withdrawn": "Withdrawn", "not_asked": ""},
    "arbor": {"given": "Given", "refused": "Refused", "withdrawn": "Withdrawn",
              "not_asked": "Not asked"},
    "bromcom": {"given": "Y", "refused": "N", "withdrawn": "W", "not_asked": "NA"},
}


def export(fmt: str, pupils=PUPILS, encoding: str = "utf-8", extra_rows=()) -> bytes:
    """A consent export as the MIS writes it: its headers, its words, its date style."""
    mapping = BUILTIN[fmt]
    cols, cons = mapping.columns, mapping.consents
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(list(cols.values()) + list(cons.values()))
    words = WORDS[fmt]
    for (mis, first, last, pref, year, cls, dob, flag, on, by, web, social) in pupils:
        def day(iso: str) -> str:
            if not iso or fmt == "arbor":
                return iso
            return date.fromisoformat(iso).strftime("%d/%m/%Y")
        yes_no = ("Y" if flag else "N") if fmt == "bromcom" else ("Yes" if flag else "")
        row = [mis, first, last, pref, f"Year {year}" if fmt == "sims" else year, cls, day(dob),
               yes_no, day(on), by]
        for key in cons:
            status = web if key == "website" else social if key == "social_media" else "given"
            row.append(words[status])
        writer.writerow(row)
    for row in extra_rows:
        writer.writerow(row)
    text = buffer.getvalue()
    if encoding == "utf-8-sig":
        return text.encode("utf-8-sig")
    return text.encode(encoding)


def run_import(school: School_, data: bytes, fmt: str | None = "sims", dry_run: bool = False,
               **kwargs):
    with session_scope(school.engine) as session:
        found = session.get(School, school.school_id)
        return import_consents(session, found, data, file_name=f"{fmt}.csv",
                               mapping=BUILTIN.get(fmt or ""), by_name="Dee Dpo",
                               now=school.now, dry_run=dry_run, **kwargs)


def count(school: School_, model) -> int:
    with session_scope(school.engine) as session:
        return len(session.exec(select(model)).all())


# --- import -------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt,encoding", [("sims", "cp1252"), ("arbor", "utf-8-sig"),
                                          ("bromcom", "utf-8")])
def test_each_format_imports_and_answers(school: School_, fmt: str, encoding: str) -> None:
    report = run_import(school, export(fmt, encoding=encoding), fmt=None)  # recognised
    assert report.format == fmt
    assert (report.added, report.changed, report.unchanged, report.left) == (6, 0, 0, 0)
    with session_scope(school.engine) as session:
        zoe = session.exec(select(Pupil).where(Pupil.mis_id == "1003")).one()
        assert zoe.legal_first == "Zoë"
        assert zoe.date_of_birth == date(2016, 11, 30)
        assert session.exec(select(Pupil).where(Pupil.mis_id == "1005")).one().no_photos
    said = school.says("dee", "Can I put Zoe Brown on the website?")
    assert said.startswith("Yes: Zoë Brown (4B, Year 4)")
    assert "imported Monday 23 November 2026" in said


def test_malformed_file_is_refused_whole_with_row_numbers(school: School_) -> None:
    bad = export("sims", extra_rows=[
        ["1001", "Dup", "Licate", "", "4", "4B", "01/01/2017", "", "", "", *["Yes"] * 9],
        ["1007", "Bad", "Date", "", "4", "4B", "31/02/2017", "", "", "", *["Yes"] * 9],
        ["1008", "Odd", "Word", "", "4", "4B", "01/01/2017", "", "", "", "Maybe",
         *["Yes"] * 8],
    ])
    with pytest.raises(ImportRefused) as refused:
        run_import(school, bad)
    reasons = refused.value.reasons
    assert reasons[0].startswith("row 8: the MIS id is also on row 2")
    assert reasons[1].startswith("row 9: the date of birth is not a whole day-first date")
    assert reasons[2].startswith("row 10: Consent - Displays “Maybe”")
    # Row and column say where; the pupil's id, name and birthday stay in the file.
    assert not any(word in " ".join(reasons) for word in ("1001", "Licate", "31/02/2017"))
    assert count(school, Pupil) == 0 and count(school, ConsentImport) == 0


def test_wrong_format_is_named(school: School_) -> None:
    with pytest.raises(ImportRefused) as refused:
        run_import(school, export("arbor"), fmt="sims")
    assert "try --format arbor" in refused.value.reasons[0]


def test_dry_run_writes_nothing_and_reimport_counts(school: School_) -> None:
    report = run_import(school, export("sims"), dry_run=True)
    assert report.added == 6 and count(school, Pupil) == 0
    run_import(school, export("sims"))
    changed = [list(p) for p in PUPILS[:4]]
    changed[0][10] = "refused"  # Amelia's website answer changes
    changed.append(["1009", "Noah", "Green", "", "4", "4B", "2017-06-01", False,
                    "2026-09-05", "Mother", "given", "given"])
    data = export("sims", pupils=[tuple(p) for p in changed])
    preview = run_import(school, data, dry_run=True)
    assert (preview.added, preview.changed, preview.unchanged, preview.left) == (1, 1, 3, 2)
    assert count(school, Pupil) == 6
    report = run_import(school, data)
    assert (report.added, report.changed, report.unchanged, report.left) == (1, 1, 3, 2)
    with session_scope(school.engine) as session:
        history = session.exec(select(ConsentChange).where(
            ConsentChange.old_status == "given", ConsentChange.new_status == "refused")).all()
        assert len(history) == 1
    assert "can't find a pupil" in school.says("dee", "consent Grace Taylor")  # she left


def test_generic_mapping(school: School_) -> None:
    mapping = mapping_from_dict({
        "columns": {"mis_id": "UPN", "legal_first": "First", "legal_last": "Last",
                    "reg_class": "Class"},
        "consents": {"website": "Web"},
        "statuses": {"ok": "given"},
    })
    data = b"UPN,First,Last,Class,Web\nA1,Maya,Lee,3C,ok\n"
    with session_scope(school.engine) as session:
        report = import_consents(session, session.get(School, school.school_id), data,
                                 file_name="g.csv", mapping=mapping, by_name="x",
                                 now=school.now)
    assert report.added == 1
    assert school.says("dee", "can I put Maya Lee on the website").startswith("Yes")


# --- answers ------------------------------------------------------------------------------

@pytest.fixture
def loaded(school: School_) -> School_:
    run_import(school, export("sims"))
    return school


def test_answers_per_use(loaded: School_) -> None:
    says = loaded.says
    assert says("dee", "can I put Amelia Smith on the website?").startswith("Yes")
    refused = says("dee", "can I put Olly Jones on social media?")
    assert refused.startswith("No: Olly Jones") and "Use: social media. Consent refused" in refused
    assert "Withdrawn on Sunday 6 September 2026" in says("dee", "consent Zoe Brown for social")
    expired = says("dee", "can I put Harry Patel on the website")
    assert "Expired: given Wednesday 4 September 2024, older than 12 months" in expired
    flagged = says("dee", "can I put Grace Taylor on the website")
    assert "NO PHOTOS AT ALL" in flagged
    # Every use with one reason (the flag, an old form) is said once, not once per use.
    assert says("dee", "consent Grace Taylor").startswith(
        "No: Grace Taylor (4B, Year 4) must not appear. Use: every use. NO PHOTOS AT ALL")
    old = says("dee", "consent Harry Patel")
    assert old.count("expired") + old.count("Expired") == 1 and "every use" in old
    table = says("dee", "consent Zoe Brown")
    assert "social media | NO | withdrawn on Sunday 6 September 2026" in table
    assert "the school website | yes | consent given" in table
    assert "not asked" in says("dee", "consent Amelia Khan for website")
    assert "Only you can see this answer" in flagged


def test_class_question_lists_who_to_leave_out(loaded: School_) -> None:
    said = loaded.says("dee", "who in 4B can't go on social media?")
    assert "4B: leave out of social media (4 of 5 pupils)" in said
    lines = said.splitlines()
    assert lines[2].startswith("Grace Taylor | NO PHOTOS AT ALL")  # safeguarding first
    assert "Amelia Smith" not in said
    # A class photo with no use named is the photographer's, and says so: Olly (no to the
    # website and social media) and Zoë (withdrawn from social media) may be in it.
    photo = loaded.says("sam", "class photo 4B")
    assert photo.startswith("You named no use, so this is for class and individual photos "
                            "by an external photographer.")
    assert "leave out of class and individual photos by an external photographer (2 of 5" \
        in photo
    assert "Grace Taylor" in photo and "Harry Patel" in photo
    assert "Olly" not in photo and "Zoë" not in photo
    # Every use: each pupil's noes by use, a reason shared by every use said once.
    every = loaded.says("sam", "class consent 4B")
    assert "4B: pupils without consent for some uses (4 of 5 pupils; the rest may appear in " \
        "every use)" in every
    assert ("Harry Patel | every use: expired: given Wednesday 4 September 2024, older than "
            "12 months") in every
    assert every.count("expired") == 1
    assert ("Olly Jones | the school website, social media: consent refused (Saturday "
            "5 September 2026)") in every
    assert "Zoë Brown | social media: withdrawn" in every
    assert "no class “9Z”" in loaded.says("dee", "class photo 9Z for website")


def test_forgiving_and_ambiguous_names(loaded: School_) -> None:
    assert loaded.says("dee", "consent Amelia Smyth for website").startswith("Yes: Amelia")
    assert loaded.says("dee", "consent Oliver Jones for website").startswith("No: Olly Jones")
    which = loaded.says("dee", "consent Amelia for website")
    assert "2 pupils match" in which and "Amelia Khan | 5A | Year 5" in which
    assert loaded.says("dee", "can I put Amelia in 4B on the website").startswith(
        "Yes: Amelia Smith")
    assert "can't find a pupil" in loaded.says("dee", "consent Nobody Here")
    assert "don't know the use" in loaded.says("dee", "consent Amelia Smith for tiktok dance")


def test_matching_folds_accents() -> None:
    assert matching.fold("Zoë O'Brien") == "zoe obrien"


def restrict_lookups(school: School_) -> None:
    with session_scope(school.engine) as session:
        service.set_lookups_restricted(session, session.get(School, school.school_id), True,
                                       by_name="Dee Dpo")


def test_permission_and_audit(loaded: School_) -> None:
    # DOMAIN.md 4: the staff who take the photos may ask, by default.
    assert loaded.says("sam", "can I put Amelia Smith on the website").startswith("Yes")
    assert "class photo 4B" in loaded.says("sam", "more")
    restrict_lookups(loaded)
    refused = loaded.says("sam", "can I put Amelia Smith on the website")
    assert refused == (
        "Hillside Primary keeps photo consent answers to a list of staff, because they are "
        "about children, and you are not on it. To add you, Dee Dpo runs: dpo-bot people add "
        "\"Sam Teacher\" --consent --school hillside\n(or, to let every member of staff ask: "
        "dpo-bot consent-settings lookups everyone --school hillside)")
    assert "class photo 4B" not in loaded.says("sam", "help")
    with session_scope(loaded.engine) as session:
        session.get(Person, loaded.people["kim"]).consent_lookup = True
    assert loaded.says("kim", "can I put Amelia Smith on the website").startswith("Yes")
    loaded.says("vic", "who in 4B can't go on the website")
    with session_scope(loaded.engine) as session:
        events = session.exec(select(AuditEvent).where(
            AuditEvent.action.startswith("consent.")).order_by(AuditEvent.id)).all()
        seen = [(e.actor_name, e.action, e.subject_ref) for e in events]
    assert ("Sam Teacher", "consent.refused", None) in seen
    assert ("Kim Teacher", "consent.viewed", "1001") in seen
    assert ("Vic Deputy", "consent.class_viewed", "4B") in seen


# --- withdrawal in chat -------------------------------------------------------------------

def test_withdrawal_then_agreeing_import(loaded: School_) -> None:
    said = loaded.says("vic", "Amelia Smith's parent withdrew consent for the website")
    assert said.startswith("Recorded: Amelia Smith's (4B, Year 4) consent for the school "
                           "website is withdrawn")
    answer = loaded.says("dee", "can I put Amelia Smith on the website")
    assert "Withdrawn on Monday 23 November 2026, not yet in the MIS" in answer
    with session_scope(loaded.engine) as session:
        told = session.exec(select(Notification)).all()
        # Vic recorded it: the rest of the DPO team is told, not Vic of her own action.
        assert {n.person_id for n in told} == {loaded.people["dee"]}
        assert "Amelia Smith" in told[0].text and "Oliver" not in told[0].text
    # An import that still says "given" keeps the withdrawal...
    report = run_import(loaded, export("sims"))
    assert report.still_pending and "not yet in the MIS" in loaded.says(
        "dee", "can I put Amelia Smith on the website")
    # ...one that agrees clears the note.
    agreeing = [list(p) for p in PUPILS]
    agreeing[0][10], agreeing[0][8] = "withdrawn", "2026-11-23"
    report = run_import(loaded, export("sims", pupils=[tuple(p) for p in agreeing]))
    assert report.confirmed == 1
    answer = loaded.says("dee", "can I put Amelia Smith on the website")
    assert "Withdrawn on Monday 23 November 2026" in answer
    assert "not yet in the MIS" not in answer
    with session_scope(loaded.engine) as session:
        consent = session.exec(select(Consent).where(Consent.pending_mis)).all()
        assert consent == []


def test_the_withdrawal_sentence_tells_staff_nothing_of_who_is_on_roll(
        loaded: School_) -> None:
    """Sam may not look pupils up (the school restricts lookups). One pupil's name, a name
    shared by two (one of them flagged or not), a name of nobody: the same answer, no class,
    year or flag; the one pupil's consent is withdrawn at once, the others go to the DPO
    team to match."""
    restrict_lookups(loaded)
    probes = ("Grace Taylor", "Harry Patel", "Amelia", "Nobody Atall")  # Grace is flagged
    said = {name: loaded.says("sam", f"{name}'s mum withdrew consent for the website")
            for name in probes}
    for name, answer in said.items():
        assert answer == said["Grace Taylor"].replace("Grace Taylor", name), answer
        assert "passed to the DPO team" in answer
        for secret in ("4B", "Year", "Smith", "Khan", "NO PHOTOS", "safeguard", "can't find",
                       "match"):
            assert secret not in answer, (secret, answer)
    assert "Withdrawn on Monday 23 November 2026, not yet in the MIS" in loaded.says(
        "dee", "can I put Harry Patel on the website")
    assert loaded.says("dee", "can I put Amelia Smith on the website").startswith("Yes")
    with session_scope(loaded.engine) as session:
        told = [n.text for n in session.exec(select(Notification).where(
            Notification.person_id == loaded.people["dee"]))]
        trail = {(e.action, (e.detail or {}).get("matches")) for e in session.exec(
            select(AuditEvent).where(AuditEvent.actor_id == loaded.people["sam"]))}
    assert len(told) == 4  # Grace's and Harry's withdrawals, and two names to match
    assert any("“Amelia”" in t and "matches 2 pupils" in t for t in told)
    assert any("“Nobody Atall”" in t and "matches no pupil" in t for t in told)
    assert {("consent.withdrawn", None), ("consent.withdrawal_passed_on", 2),
            ("consent.withdrawal_passed_on", 0)} <= trail
    # Told twice (a retried message): recorded and passed on once.
    loaded.says("sam", "Amelia's mum withdrew consent for the website")
    with session_scope(loaded.engine) as session:
        assert len(session.exec(select(Notification).where(
            Notification.person_id == loaded.people["dee"])).all()) == 4


# --- command line -------------------------------------------------------------------------

def test_cli_import_consent_json_and_export(tmp_path: Path, cli_env: dict[str, str]) -> None:
    env = cli_env
    engine = make_engine(env["DPO_BOT_DATABASE_URL"])
    upgrade(engine)
    make_school(engine)
    file = tmp_path / "bromcom.csv"
    file.write_bytes(export("bromcom"))
    done = run_cli("import", "consents", str(file), "--dry-run", env=env)
    assert done.returncode == 0, done.stderr
    assert "Would import 6 pupils" in done.stdout and "6 added" in done.stdout
    done = run_cli("import", "consents", str(file), "--format", "bromcom", env=env)
    assert "Imported 6 pupils" in done.stdout, done.stderr
    done = run_cli("consent", "Olly Jones", "--use", "website", "--json", env=env)
    assert done.returncode == 0, done.stderr
    replies = json.loads(done.stdout)
    assert replies[0]["type"] == "Text" and replies[0]["text"].startswith("No: Olly Jones")
    done = run_cli("consent", "--class", "4B", "--use", "social media", "--json", env=env)
    assert "leave out of social media" in json.loads(done.stdout)[0]["title"]
    bad = tmp_path / "bad.csv"
    bad.write_bytes(export("bromcom", extra_rows=[["1001", "A", "B"] + [""] * 16]))
    done = run_cli("import", "consents", str(bad), env=env)
    assert done.returncode == 2 and "row 8: the MIS id is also on row 2" in done.stderr
    done = run_cli("export", "consents", env=env)
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(rows) == 6 * 9 and {r["answer"] for r in rows} == {"yes", "no"}
    engine.dispose()


def test_text_of_is_plain(loaded: School_) -> None:
    replies = loaded.say("dee", "consent Grace Taylor")
    assert "NO PHOTOS AT ALL" in text_of(replies)


def test_slash_lookup_answers_privately_but_never_records(loaded: School_) -> None:
    """A slash command answers consent questions (ephemerally); a withdrawal needs the DM."""
    from workflows.core.chat import lookup

    with session_scope(loaded.engine) as session:
        ctx = loaded.context(session, "dee")
        assert text_of(lookup(ctx, "consent Amelia Smith for website")).startswith("Yes")
        said = text_of(lookup(ctx, "Amelia Smith's mum withdrew consent for website"))
    assert "can't do" in said


# --- settings -------------------------------------------------------------------------------

def test_settings_change_answers_and_are_audited(loaded: School_) -> None:
    says = loaded.says
    # Harry Patel's yes is from September 2024: expired at 12 months, valid at 36.
    assert "Expired: given" in says("dee", "can I put Harry Patel on the website")
    with session_scope(loaded.engine) as session:
        found = session.get(School, loaded.school_id)
        service.set_validity_months(session, found, 36, by_name="Dee Dpo")
    assert says("dee", "can I put Harry Patel on the website").startswith("Yes")
    with session_scope(loaded.engine) as session:
        found = session.get(School, loaded.school_id)
        with pytest.raises(service.SettingRefused, match="1 to 120"):
            service.set_validity_months(session, found, 0)
        service.add_category(session, found, "instagram", "the school's  Instagram", "Dee Dpo")
        with pytest.raises(service.SettingRefused, match="already a use"):
            service.add_category(session, found, "instagram", "again", "Dee Dpo")
        with pytest.raises(service.SettingRefused, match="cannot be a key"):
            service.add_category(session, found, "Insta Gram", "x", "Dee Dpo")
        service.rename_category(session, found, "video", "video and live streams", "Dee Dpo")
        # Answers were imported for video: the record of who consented is kept.
        with pytest.raises(service.SettingRefused, match="cannot be removed"):
            service.remove_category(session, found, "video", "Dee Dpo")
    assert "not asked" in says("dee", "consent Amelia Smith for the school's instagram")
    assert "video and live streams" in says("dee", "consent Amelia Smith")
    with session_scope(loaded.engine) as session:
        found = session.get(School, loaded.school_id)
        service.remove_category(session, found, "instagram", "Dee Dpo")
        assert "instagram" not in service.categories(session, found)
        actions = session.exec(select(AuditEvent.action).where(
            col(AuditEvent.action).startswith("consent.settings.")).order_by(
            col(AuditEvent.id))).all()
    assert actions == ["consent.settings.validity", "consent.settings.added",
                       "consent.settings.renamed", "consent.settings.removed"]


def test_cli_consent_settings(cli_env: dict[str, str]) -> None:
    env = cli_env
    done = run_cli("consent-settings", "add", "instagram", "the school's Instagram", env=env)
    assert done.returncode == 0 and "Added instagram" in done.stdout, done.stderr
    done = run_cli("consent-settings", "validity", "0", env=env)
    assert done.returncode == 2 and "give 1 to 120" in done.stderr
    done = run_cli("consent-settings", "validity", "24", env=env)
    assert done.returncode == 0 and "lasts 24 months" in done.stdout
    done = run_cli("consent-settings", "remove", "nope", env=env)
    assert done.returncode == 2 and "No use called nope" in done.stderr
    done = run_cli("consent-settings", "show", env=env)
    assert "a yes lasts 24 months" in done.stdout and "the school's Instagram" in done.stdout
    assert "press_named" in done.stdout
    assert "Every member of staff may look pupils up, audited" in done.stdout
    done = run_cli("consent-settings", "lookups", "listed", env=env)
    assert done.returncode == 0 and done.stdout.startswith(
        "Only the DPO team and the staff given --consent may look pupils up now")
    done = run_cli("consent-settings", "show", env=env)
    assert "Only the DPO team and the staff given --consent may look pupils up" in done.stdout
    assert run_cli("consent-settings", "lookups", "everyone", env=env).returncode == 0


def test_help_lists_consent_questions_only_to_those_allowed(school: School_) -> None:
    assert "class photo 4B" in school.says("sam", "more")  # open to all staff by default
    assert "Amelia Smith on the website" in school.says("sam", "help")
    restrict_lookups(school)
    assert "class photo 4B" in school.says("dee", "more")  # the whole help
    assert "Amelia Smith on the website" in school.says("dee", "help")
    assert "Amelia Smith on the website" not in school.says("sam", "help")
    staff_help = school.says("sam", "more")
    assert "class photo 4B" not in staff_help
    assert "withdrew consent for social media" in staff_help  # anyone may record a withdrawal
