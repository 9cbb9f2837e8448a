"""The Navet import against real Postgres: shared/specs/population-register.md is the contract."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from patients.models import (
    NumberChange,
    Patient,
    PatientIdentity,
    PatientRelation,
    QuarantinedRecord,
    RegisterEvent,
    RegisterFile,
)
from tests.conftest import SAMPLE_NAVET

pytestmark = pytest.mark.django_db

# The sample's people (Skatteverket test numbers, IDENT-4).
KARL, MARIA, EVA, OLOF, INGRID, BIRGITTA = (
    "194201077098",
    "194201199124",
    "194202269207",
    "194203027018",
    "194203109147",
    "194203138187",
)
SPOUSE = "194202138014"
OTHER = "194204099222"
NAMES = ("Lindqvist", "Maria", "Holm", "Berg", "Sjöberg", "Nyström", "Storgatan", "Hamngatan")


def post(
    number: str,
    *,
    surname: str = "Testsson",
    sekretess: str | None = None,
    skyddad: str | None = None,
    county: str = "12",
    street: str = "Provgatan 1",
    extra: str = "",
    post_id: str | None = None,
    referral: str | None = None,
) -> str:
    flags = ""
    if sekretess is not None:
        flags += f"<Sekretessmarkering>{sekretess}</Sekretessmarkering>"
    if skyddad is not None:
        flags += f"<SkyddadFolkbokforing>{skyddad}</SkyddadFolkbokforing>"
    arende = f"<Arendeuppgift><PostId>{post_id}</PostId></Arendeuppgift>" if post_id else ""
    hanvisning = f"<HanvisningsPersonNr>{referral}</HanvisningsPersonNr>" if referral else ""
    return (
        f"<Folkbokforingspost>{flags}{arende}<Personpost>"
        f"<PersonId><PersonNr>{number}</PersonNr></PersonId>{hanvisning}{extra}"
        f"<Namn><Fornamn>Testa</Fornamn><Efternamn>{surname}</Efternamn></Namn>"
        f"<Folkbokforing><LanKod>{county}</LanKod><KommunKod>80</KommunKod></Folkbokforing>"
        f"<Adresser><Folkbokforingsadress><Utdelningsadress2>{street}</Utdelningsadress2>"
        f"<PostNr>21100</PostNr><Postort>MALMÖ</Postort></Folkbokforingsadress></Adresser>"
        f"</Personpost></Folkbokforingspost>"
    )


def navet(path: Path, *posts: str, order: str | None = None) -> Path:
    info = ""
    if order:
        info = (
            "<Aviseringsinformation><Medieleverantor><OrgNr>162021004748</OrgNr></Medieleverantor>"
            "<Mediemottagare><OrgNr>162321000255</OrgNr></Mediemottagare><Filinformation>"
            f"<BestallningsId>{order}</BestallningsId><Bestallningstyp>Avisering</Bestallningstyp>"
            "<Produkt>NAVET</Produkt><Utfil><Filnamn>FO01.AVI.XML</Filnamn>"
            "<Effektueringsdatum>20261121</Effektueringsdatum>"
            f"<AntalPoster>{len(posts)}</AntalPoster><AntalPosterTotalt>{len(posts)}"
            "</AntalPosterTotalt><AntalFiler>1</AntalFiler><FilNr>1</FilNr><JobbId>1</JobbId>"
            "</Utfil></Filinformation></Aviseringsinformation>"
        )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><Navetavisering>'
        f"{info}<Folkbokforingsposter>{''.join(posts)}</Folkbokforingsposter></Navetavisering>",
        encoding="utf-8",
    )
    return path


def run(*paths: Path | str, dry_run: bool = False) -> tuple[int, dict[str, Any], str]:
    out, err = StringIO(), StringIO()
    args = [str(p) for p in paths] + ["--json"] + (["--dry-run"] if dry_run else [])
    try:
        call_command("import_navet", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, json.loads(out.getvalue()), err.getvalue()


def identity(number: str) -> PatientIdentity:
    return PatientIdentity.objects.select_related("patient").get(personal_identity_number=number)


def assert_no_personal_data(text: str) -> None:
    """LEAK-1: summaries and messages carry positions and PostIds, never a person."""
    for number in (KARL, MARIA, EVA, OLOF, INGRID, BIRGITTA, SPOUSE, OTHER):
        assert number not in text
        assert number[2:] not in text
    for name in (*NAMES, "Testsson", "Provgatan"):
        assert name not in text


def test_prot_1_sample_file_creates_six_patients_with_register_protection():
    """PROT-1 flags from the register; REGION-1: the home region is the register's LanKod."""
    code, summary, _ = run(SAMPLE_NAVET)
    assert code == 0
    assert summary | {"rejections": [], "already_imported": [], "errors": []} == {
        "files": 1, "records": 6, "created": 6, "updated": 0, "unchanged": 0, "rejected": 0,
        "protection_added": 3, "protection_removed": 0, "deceased": 1,
        "hand_registrations_matched": 0, "rejections": [],
        "already_imported": [], "errors": [], "dry_run": False,
    }  # fmt: skip
    karl, maria, eva = identity(KARL), identity(MARIA), identity(EVA)
    assert not karl.patient.is_protected
    assert (maria.patient.confidentiality_marking, maria.patient.is_protected) == (True, True)
    assert (eva.patient.protected_registration, eva.patient.is_protected) == (True, True)
    assert eva.registered_address is None  # skyddad folkbokföring: no residential address
    assert eva.special_postal_address["street2"] == "Box 2820"
    assert karl.registered_address["street2"] == "Storgatan 12 B"
    assert (karl.given_names, karl.surname, karl.name_in_use_marker) == (
        "Karl Gustav",
        "Lindqvist",
        10,
    )
    assert karl.patient.birth_year == 1942
    assert karl.patient.home_region_id == "12"
    assert identity(OLOF).patient.home_region_id == "01"  # REGION-1: home region from LanKod
    assert set(
        RegisterEvent.objects.filter(kind="protection_added").values_list(
            "patient__identity__personal_identity_number", flat=True
        )
    ) == {MARIA, EVA, INGRID}
    assert PatientRelation.objects.get().related_identity_number == SPOUSE


def test_prot_3_death_marks_deceased_and_keeps_protection():
    run(SAMPLE_NAVET)
    ingrid = identity(INGRID)
    assert (ingrid.patient.status, ingrid.patient.deregistration_code) == ("deceased", "AV")
    assert ingrid.deregistration_date == "20261118"
    assert ingrid.patient.is_protected
    assert RegisterEvent.objects.filter(patient=ingrid.patient, kind="deceased").exists()


def test_region_5_emigration_marks_emigrated_with_foreign_address():
    run(SAMPLE_NAVET)
    birgitta = identity(BIRGITTA)
    assert birgitta.patient.status == "emigrated"
    assert birgitta.foreign_address["country"] == "SPANIEN"


def test_leak_3_addresses_are_encrypted_at_rest():
    run(SAMPLE_NAVET)
    with connection.cursor() as cursor:
        cursor.execute("SELECT registered_address, municipality_code FROM patients_patientidentity")
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    for plain in ("Storgatan", "Hamngatan", "MALMÖ", "21142", "Sveavägen"):
        assert plain not in stored


def test_same_file_twice_changes_nothing_and_says_so():
    run(SAMPLE_NAVET)
    before = list(
        PatientIdentity.objects.values_list("patient_id", "register_digest", "updated_at")
    )
    code, summary, _ = run(SAMPLE_NAVET)
    assert code == 0
    assert summary["already_imported"] == ["sample-avisering.xml"]
    assert summary["records"] == summary["created"] == summary["updated"] == 0
    after = list(PatientIdentity.objects.values_list("patient_id", "register_digest", "updated_at"))
    assert before == after
    assert RegisterFile.objects.count() == 1
    human = StringIO()
    call_command("import_navet", str(SAMPLE_NAVET), stdout=human)
    assert "already imported; nothing changed" in human.getvalue()


def test_file_without_file_information_is_identified_by_its_content(tmp_path):
    path = navet(tmp_path / "a.xml", post(OTHER))
    assert run(path)[1]["created"] == 1
    assert run(path)[1]["already_imported"] == ["a.xml"]
    # Same content under another name: still the same file.
    copy = tmp_path / "b.xml"
    copy.write_bytes(path.read_bytes())
    assert run(copy)[1]["already_imported"] == ["b.xml"]


def test_unchanged_record_in_a_later_file_is_counted_unchanged(tmp_path):
    run(navet(tmp_path / "1.xml", post(OTHER), order="A-1"))
    _, summary, _ = run(navet(tmp_path / "2.xml", post(OTHER), order="A-2"))
    assert (summary["unchanged"], summary["updated"]) == (1, 0)


def test_change_notification_is_the_whole_post_missing_fields_are_gone(tmp_path):
    run(navet(tmp_path / "1.xml", post(OTHER, street="Gamla vägen 1"), order="A-1"))
    changed = post(OTHER, street="Nya vägen 2").replace("<Namn><Fornamn>Testa</Fornamn>", "<Namn>")
    _, summary, _ = run(navet(tmp_path / "2.xml", changed, order="A-2"))
    assert summary["updated"] == 1
    other = identity(OTHER)
    assert other.registered_address["street2"] == "Nya vägen 2"
    assert other.given_names == ""


def test_prot_4_register_dropping_protection_does_not_unprotect(tmp_path):
    run(navet(tmp_path / "1.xml", post(OTHER, skyddad="J"), order="A-1"))
    _, summary, _ = run(navet(tmp_path / "2.xml", post(OTHER, skyddad="N"), order="A-2"))
    assert summary["protection_removed"] == 1
    patient = identity(OTHER).patient
    assert patient.protected_registration is False
    assert patient.protection_held is True
    assert patient.is_protected is True
    assert RegisterEvent.objects.filter(
        patient=patient, kind="protection_removed", handled_at__isnull=True
    ).exists()
    # A later file that still says N keeps the hold: only a person lifts it.
    run(navet(tmp_path / "3.xml", post(OTHER, skyddad="N", street="X 1"), order="A-3"))
    assert identity(OTHER).patient.is_protected is True


def test_prot_1_protection_added_later_is_recorded(tmp_path):
    run(navet(tmp_path / "1.xml", post(OTHER), order="A-1"))
    _, summary, _ = run(navet(tmp_path / "2.xml", post(OTHER, sekretess="J"), order="A-2"))
    assert summary["protection_added"] == 1
    assert identity(OTHER).patient.is_protected


def test_referral_number_moves_the_patient_to_the_new_number(tmp_path):
    run(navet(tmp_path / "1.xml", post(OTHER), order="A-1"))
    patient_id = identity(OTHER).patient_id
    code, _, _ = run(navet(tmp_path / "2.xml", post(OTHER, referral=SPOUSE), order="A-2"))
    assert code == 0
    moved = identity(SPOUSE)
    assert moved.patient_id == patient_id
    assert moved.patient.birth_year == 1942
    assert not PatientIdentity.objects.filter(personal_identity_number=OTHER).exists()
    change = NumberChange.objects.get()
    assert (change.old_number, change.new_number) == (OTHER, SPOUSE)
    assert RegisterEvent.objects.filter(patient_id=patient_id, kind="number_changed").exists()


def test_referral_onto_an_existing_patient_is_quarantined_not_merged(tmp_path):
    run(navet(tmp_path / "1.xml", post(OTHER), post(SPOUSE), order="A-1"))
    _, summary, _ = run(navet(tmp_path / "2.xml", post(OTHER, referral=SPOUSE), order="A-2"))
    assert summary["rejected"] == 1
    assert "merge by hand" in summary["rejections"][0]["reason"]
    assert PatientIdentity.objects.count() == 2
    assert QuarantinedRecord.objects.count() == 1


@pytest.mark.parametrize(
    ("bad_post", "reason"),
    [
        (post("194204099223", post_id="P-42"), "check digit"),
        (post(OTHER, county="99", post_id="P-42"), "county"),
        (post(OTHER, surname="X" * 61, post_id="P-42"), "Efternamn"),
    ],
    ids=["wrong-check-digit", "unknown-county", "over-long-field"],
)
def test_bad_record_is_quarantined_and_the_rest_applied(tmp_path, bad_post, reason):
    path = navet(tmp_path / "bad.xml", post(SPOUSE), bad_post, post(KARL, post_id="P-77"))
    code, summary, _ = run(path)
    assert code == 0
    assert (summary["created"], summary["rejected"], summary["records"]) == (2, 1, 3)
    (rejection,) = summary["rejections"]
    assert (rejection["file"], rejection["position"], rejection["post_id"]) == (
        "bad.xml",
        2,
        "P-42",
    )
    assert reason in rejection["reason"]
    assert_no_personal_data(json.dumps(summary))
    quarantined = QuarantinedRecord.objects.get()
    assert quarantined.position == 2
    assert "Folkbokforingspost" in quarantined.record_xml  # kept whole, encrypted
    with connection.cursor() as cursor:
        cursor.execute("SELECT record_xml FROM patients_quarantinedrecord")
        assert "Folkbokforingspost" not in cursor.fetchone()[0]


def test_duplicate_records_in_one_file_apply_in_order_later_wins(tmp_path):
    path = navet(tmp_path / "dup.xml", post(OTHER, street="Först 1"), post(OTHER, street="Sist 2"))
    _, summary, _ = run(path)
    assert (summary["records"], summary["created"], summary["updated"]) == (2, 1, 1)
    assert identity(OTHER).registered_address["street2"] == "Sist 2"
    assert Patient.objects.count() == 1


@pytest.mark.parametrize("damage", ["malformed", "truncated"])
def test_unreadable_file_exits_2_and_applies_nothing(tmp_path, damage):
    good = navet(tmp_path / "good.xml", post(OTHER), post(SPOUSE), post(KARL))
    text = good.read_text()
    broken = tmp_path / "broken.xml"
    if damage == "malformed":
        broken.write_text(text.replace("</Efternamn></Namn>", "</Namn>", 3))
    else:
        broken.write_text(text[: int(len(text) * 0.8)])
    code, summary, err = run(broken)
    assert code == 2
    assert summary["errors"][0]["file"] == "broken.xml"
    assert "nothing applied" in err
    assert Patient.objects.count() == 0  # not even the records before the damage
    assert RegisterFile.objects.count() == 0
    assert_no_personal_data(json.dumps(summary) + err)


def test_missing_file_exits_2(tmp_path):
    code, summary, _ = run(tmp_path / "nope.xml")
    assert code == 2
    assert summary["errors"][0]["file"] == "nope.xml"


def test_dry_run_reports_and_writes_nothing():
    _, summary, _ = run(SAMPLE_NAVET, dry_run=True)
    assert (summary["created"], summary["dry_run"]) == (6, True)
    assert Patient.objects.count() == 0
    assert RegisterFile.objects.count() == 0
    assert RegisterEvent.objects.count() == 0


def test_leak_1_human_summary_holds_no_personal_data(tmp_path):
    path = navet(tmp_path / "x.xml", post(OTHER), post("194204099223", post_id="P-9"))
    out, err = StringIO(), StringIO()
    call_command("import_navet", str(path), stdout=out, stderr=err)
    text = out.getvalue() + err.getvalue()
    assert "record 2 (PostId P-9) rejected" in text
    assert_no_personal_data(text)


def test_prot_1_rejected_record_with_a_protection_flag_still_protects(tmp_path):
    """A record quarantined for another reason must not leave a flagged person unprotected."""
    run(navet(tmp_path / "1.xml", post(OTHER), order="A-1"))
    assert not identity(OTHER).patient.is_protected
    bad = post(OTHER, skyddad="J", street="X" * 36)  # over-long address line: rejected
    _, summary, _ = run(navet(tmp_path / "2.xml", bad, order="A-2"))
    assert (summary["rejected"], summary["protection_added"]) == (1, 1)
    patient = identity(OTHER).patient
    assert patient.is_protected
    assert RegisterEvent.objects.filter(patient=patient, kind="protection_added").exists()
    assert identity(OTHER).registered_address["street2"] == "Provgatan 1"  # record not applied
