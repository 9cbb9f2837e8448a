"""CAT-2: the catalogue exchanged with the national catalogue: export, import, round trip."""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path

import pytest
from django.core.management import call_command

from prescriptions.models import Agreement, Article
from prescriptions.services.catalogue import CatalogueImportReport, catalogue_import
from prescriptions.services.catalogue_export import EXPORT_COLUMNS, catalogue_export

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
    exported = tmp_path / "export.csv"
    catalogue_export(path=exported)
    by_number = {row["article_number"]: row for row in rows_of(exported)}
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
