"""CAT-2: the catalogue exchanged with the national catalogue: export, import, round trip."""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from prescriptions.models import Agreement, Article, AssortmentPeriod
from prescriptions.selectors.assortment import public_article_get
from prescriptions.services.catalogue import CatalogueImportReport, catalogue_import
from prescriptions.services.catalogue_export import EXPORT_COLUMNS, catalogue_export
from prescriptions.services.ownership import article_publish, article_withdraw
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=EXPORT_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def exported_by_number(tmp_path: Path) -> dict[str, dict[str, str]]:
    """The catalogue as exported now, a row per article number."""
    exported = tmp_path / "export.csv"
    catalogue_export(path=exported)
    return {row["article_number"]: row for row in rows_of(exported)}


def test_cat_2_an_exported_catalogue_loads_again_unchanged(
    sample_catalogue: CatalogueImportReport, tmp_path: Path
) -> None:
    assert sample_catalogue.rejected == 0
    bed = Article.objects.get(article_number="40101")
    bed.description = "Elektriskt reglerbar säng, 90 cm, med grindar."
    bed.save(update_fields=["description"])
    Agreement.objects.filter(pk=bed.agreement_id).update(
        valid_from=datetime.date(2024, 3, 1), valid_until=datetime.date(2028, 2, 29)
    )
    first = tmp_path / "first.csv"
    count = catalogue_export(path=first)
    assert count == Article.objects.count() > 10

    again = catalogue_import(path=first)
    assert again.rejections == []
    assert again.rows == count
    assert again.unchanged == count
    second = tmp_path / "second.csv"
    catalogue_export(path=second)
    assert second.read_bytes() == first.read_bytes()

    exported = {row["article_number"]: row for row in rows_of(first)}
    assert exported["40101"]["description"] == "Elektriskt reglerbar säng, 90 cm, med grindar."
    assert exported["40101"]["agreement_valid_from"] == "2024-03-01"
    assert exported["40101"]["agreement_valid_until"] == "2028-02-29"
    assert exported["40101"]["price_sek"] == "14900.00"


def test_cat_2_a_new_agreement_from_the_file_gets_its_period_and_the_description_updates(
    sample_catalogue: CatalogueImportReport, tmp_path: Path
) -> None:
    exported = tmp_path / "export.csv"
    catalogue_export(path=exported)
    rows = [row for row in rows_of(exported) if row["article_number"] == "40101"]
    rows[0].update(
        agreement="AVT-NAT-2026-001",
        agreement_valid_from="2026-01-01",
        agreement_valid_until="2029-12-31",
        description="Säng med ny text från den nationella katalogen.",
    )
    report = catalogue_import(path=write_rows(tmp_path / "national.csv", rows))
    assert report.rejections == []
    assert report.updated == 1
    assert report.agreements_created == 1
    agreement = Agreement.objects.get(code="AVT-NAT-2026-001")
    assert (agreement.valid_from, agreement.valid_until) == (
        datetime.date(2026, 1, 1),
        datetime.date(2029, 12, 31),
    )
    article = Article.objects.get(article_number="40101")
    assert article.agreement_id == agreement.pk
    assert article.description == "Säng med ny text från den nationella katalogen."


def test_cat_2_bad_exchange_values_are_quarantined_naming_the_field_and_the_rest_loads(
    sample_catalogue: CatalogueImportReport, tmp_path: Path
) -> None:
    by_number = exported_by_number(tmp_path)
    good = dict(by_number["40102"], description="Säng i lägre modell.")
    long_text = dict(by_number["40101"], description="x" * 2001)
    bad_day = dict(by_number["40105"], agreement="AVT-X-1", agreement_valid_from="2026-13-01")
    backwards = dict(
        by_number["40106"],
        agreement="AVT-X-2",
        agreement_valid_from="2027-01-01",
        agreement_valid_until="2026-01-01",
    )
    report = catalogue_import(
        path=write_rows(tmp_path / "bad.csv", [long_text, bad_day, backwards, good])
    )
    assert [(r.line, r.field) for r in report.rejections] == [
        (2, "description"),
        (3, "agreement_valid_from"),
        (4, "agreement_valid_until"),
    ]
    assert "'2026-13-01' is not a date" in str(report.rejections[1])
    assert report.updated == 1
    assert Article.objects.get(article_number="40102").description == "Säng i lägre modell."
    assert not Agreement.objects.filter(code__in=["AVT-X-1", "AVT-X-2"]).exists()
    # A file without the optional columns keeps the stored description.
    assert Article.objects.get(article_number="40101").description == ""


def test_cat_2_the_export_command_writes_the_file(
    sample_catalogue: CatalogueImportReport, tmp_path: Path
) -> None:
    out = io.StringIO()
    target = tmp_path / "national.csv"
    call_command("export_catalogue", str(target), stdout=out)
    assert f"{Article.objects.count()} article(s) written" in out.getvalue()
    assert tuple(rows_of(target)[0].keys()) == EXPORT_COLUMNS


def test_cat_2_dated_publication_and_withdrawal_survive_export_and_import(
    sample_catalogue: CatalogueImportReport, tmp_path: Path
) -> None:
    """CAT-2: the article's publication and withdrawal days are in the file both ways."""
    Article.objects.filter(article_number="40101").update(assortment_from=datetime.date(2027, 3, 1))
    Article.objects.filter(article_number="40102").update(
        assortment_from=datetime.date(2026, 1, 1), assortment_until=datetime.date(2027, 6, 30)
    )
    first = tmp_path / "first.csv"
    count = catalogue_export(path=first)
    exported = {row["article_number"]: row for row in rows_of(first)}
    assert (exported["40101"]["assortment_from"], exported["40101"]["assortment_until"]) == (
        "2027-03-01",
        "",
    )
    assert (exported["40102"]["assortment_from"], exported["40102"]["assortment_until"]) == (
        "2026-01-01",
        "2027-06-30",
    )
    assert catalogue_import(path=first).unchanged == count

    # The receiving side lost the days (as the flag-only format did): the file brings them back.
    Article.objects.filter(article_number__in=["40101", "40102"]).update(
        assortment_from=None, assortment_until=None
    )
    report = catalogue_import(path=first)
    assert report.rejections == []
    assert (report.updated, report.unchanged) == (2, count - 2)
    bed = Article.objects.get(article_number="40101")
    assert not bed.in_assortment_on(datetime.date(2027, 2, 28))
    assert bed.in_assortment_on(datetime.date(2027, 3, 1))
    low_bed = Article.objects.get(article_number="40102")
    assert low_bed.in_assortment_on(datetime.date(2027, 6, 30))
    assert not low_bed.in_assortment_on(datetime.date(2027, 7, 1))
    second = tmp_path / "second.csv"
    catalogue_export(path=second)
    assert second.read_bytes() == first.read_bytes()


def test_cat_2_bad_assortment_days_are_quarantined_naming_the_field_and_the_rest_loads(
    sample_catalogue: CatalogueImportReport, tmp_path: Path
) -> None:
    by_number = exported_by_number(tmp_path)
    bad_from = dict(by_number["40101"], assortment_from="2027-13-01")
    bad_until = dict(by_number["40102"], assortment_until="2027-02-30")
    backwards = dict(
        by_number["40105"], assortment_from="2027-06-01", assortment_until="2027-05-31"
    )
    phased_out = dict(by_number["40106"], in_assortment="no", assortment_until="2027-01-31")
    good = dict(by_number["40120"], assortment_from="2027-09-01")
    report = catalogue_import(
        path=write_rows(tmp_path / "bad.csv", [bad_from, bad_until, backwards, phased_out, good])
    )
    assert [(r.line, r.field) for r in report.rejections] == [
        (2, "assortment_from"),
        (3, "assortment_until"),
        (4, "assortment_until"),
        (5, "assortment_until"),
    ]
    assert str(report.rejections[0]) == (
        "line 2 (40101): assortment_from: '2027-13-01' is not a date (YYYY-MM-DD)"
    )
    assert "'2027-02-30' is not a date" in str(report.rejections[1])
    assert report.updated == 1
    assert Article.objects.get(article_number="40120").assortment_from == datetime.date(2027, 9, 1)
    # The quarantined rows changed nothing.
    assert set(
        Article.objects.filter(article_number__in=["40101", "40102", "40105", "40106"]).values_list(
            "in_assortment", "assortment_from", "assortment_until"
        )
    ) == {(True, None, None)}


def test_cat_2_a_file_without_the_day_columns_keeps_the_stored_days(
    sample_catalogue: CatalogueImportReport, tmp_path: Path
) -> None:
    Article.objects.filter(article_number__in=["40101", "40102"]).update(
        assortment_from=datetime.date(2027, 3, 1), assortment_until=datetime.date(2027, 12, 31)
    )
    by_number = exported_by_number(tmp_path)
    old_columns = EXPORT_COLUMNS[: EXPORT_COLUMNS.index("assortment_from")]
    older = tmp_path / "older.csv"
    with older.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=old_columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerow(by_number["40101"])
        # Phased out by the older file: a phased-out article has no pending days.
        writer.writerow(dict(by_number["40102"], in_assortment="no"))
    report = catalogue_import(path=older)
    assert report.rejections == []
    assert (report.unchanged, report.updated) == (1, 1)
    days = dict(
        Article.objects.filter(article_number__in=["40101", "40102"]).values_list(
            "article_number", "assortment_from"
        )
    )
    assert days == {"40101": datetime.date(2027, 3, 1), "40102": None}
    phased_out = Article.objects.get(article_number="40102")
    assert (phased_out.in_assortment, phased_out.assortment_until) == (False, None)


def test_cat_1_the_owners_dated_publication_and_withdrawal_go_through_the_file(
    sample_catalogue: CatalogueImportReport, tmp_path: Path
) -> None:
    """CAT-1: what the assortment owner dates ahead keeps its day through export and import."""
    owner = UserFactory.create(role="assortment_owner")
    today = timezone.localdate()
    publish_on = today + datetime.timedelta(days=10)
    last_day = today + datetime.timedelta(days=20)
    lift = Article.objects.get(article_number="41001")
    bed = Article.objects.get(article_number="40101")
    article_withdraw(user=owner, article_id=lift.pk)
    article_publish(user=owner, article_id=lift.pk, published_from=publish_on)
    article_withdraw(user=owner, article_id=bed.pk, until=last_day)
    periods = list(AssortmentPeriod.objects.order_by("pk").values_list("pk", "until"))
    exported = tmp_path / "export.csv"
    count = catalogue_export(path=exported)
    assert catalogue_import(path=exported).unchanged == count

    # The flag-only file lost both days: the lift was on offer at once, the bed for good.
    Article.objects.filter(pk__in=[lift.pk, bed.pk]).update(
        assortment_from=None, assortment_until=None
    )
    assert public_article_get(article_number="41001", day=today) is not None
    report = catalogue_import(path=exported)
    assert (report.rejections, report.updated) == ([], 2)
    assert public_article_get(article_number="41001", day=today) is None
    assert public_article_get(article_number="41001", day=publish_on) is not None
    assert public_article_get(article_number="40101", day=last_day) is not None
    assert (
        public_article_get(article_number="40101", day=last_day + datetime.timedelta(days=1))
        is None
    )
    # The owner's history is the owner's: the import writes no period.
    assert list(AssortmentPeriod.objects.order_by("pk").values_list("pk", "until")) == periods
