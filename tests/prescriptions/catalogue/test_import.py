"""``import_catalogue``: the sample file, idempotence, bad rows, and what the admin owns."""

from __future__ import annotations

import csv
import datetime
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from prescriptions.models import (
    Agreement,
    Article,
    ArticleKind,
    CompetenceArea,
    ProductArea,
    ReplacementGroup,
    ReplacementKind,
    Supplier,
)
from prescriptions.services.catalogue import (
    CATALOGUE_COLUMNS,
    CatalogueFileError,
    catalogue_import,
    product_areas_import,
)

pytestmark = pytest.mark.django_db

ROLLATOR = {
    "article_number": "44001",
    "name": "Rollator Gloss",
    "iso9999": "120606",
    "product_area": "mobility",
    "price_sek": "2900",
    "kind": "main",
    "main_article": "",
    "advanced_service": "no",
    "assortment_days": "7",
    "in_assortment": "yes",
    "lifespan_years": "8",
    "supply": "rent",
    "replacement_group": "G-ROLL",
    "replacement_kind": "optional",
    "supplier": "Gångbolaget AB",
    "agreement": "AVT-2023-002",
    "weight_kg": "7.5",
    "length_cm": "70",
    "girth_cm": "180",
}


def write_catalogue(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CATALOGUE_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def row(**changes: str) -> dict[str, str]:
    return {**ROLLATOR, **changes}


@pytest.fixture
def areas(shared_dir: Path) -> None:
    product_areas_import(path=shared_dir / "data" / "product_areas.csv")


def test_the_sample_catalogue_loads_whole(sample_catalogue):
    assert sample_catalogue.rejections == []
    assert sample_catalogue.created == sample_catalogue.rows == 53
    assert Article.objects.count() == 53
    assert sample_catalogue.product_areas is not None
    assert sample_catalogue.product_areas.created == 12
    assert CompetenceArea.objects.count() == 5
    # Medicine-related product areas (lmn): REGION-3 applies to them.
    assert set(
        ProductArea.objects.filter(medicine_related=True).values_list("code", flat=True)
    ) == {
        "incontinence",
        "diabetes",
        "nutrition",
    }
    bed_rail = Article.objects.select_related("main_article").get(article_number="40190")
    assert bed_rail.kind == ArticleKind.ACCESSORY
    assert bed_rail.main_article is not None
    assert bed_rail.main_article.article_number == "40101"
    assert ReplacementGroup.objects.get(code="G-SANG-90").kind == ReplacementKind.FIXED
    assert ReplacementGroup.objects.get(code="G-ROLL").kind == ReplacementKind.OPTIONAL
    phased_out = Article.objects.get(article_number="40199")
    assert not phased_out.in_assortment
    nutrition = Article.objects.get(article_number="52001")
    assert nutrition.iso9999 == ""
    assert nutrition.kind == ArticleKind.CONSUMABLE
    assert Article.objects.get(article_number="49010").supply == "sell"
    assert Article.objects.get(article_number="41020").weight_kg == Decimal("1.200")


def test_a_second_import_changes_nothing(sample_catalogue, shared_dir):
    again = catalogue_import(
        path=shared_dir / "data" / "catalogue.csv",
        product_areas_path=shared_dir / "data" / "product_areas.csv",
    )
    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 53, 0)
    assert (again.suppliers_created, again.agreements_created) == (0, 0)
    assert again.product_areas is not None
    assert again.product_areas.unchanged == 12


def test_a_changed_row_updates_the_article_and_keeps_its_stock_state(areas, tmp_path):
    write_catalogue(tmp_path / "a.csv", [row()])
    catalogue_import(path=tmp_path / "a.csv")
    Article.objects.filter(article_number="44001").update(out_of_stock=True)
    report = catalogue_import(path=write_catalogue(tmp_path / "b.csv", [row(price_sek="3100.50")]))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    article = Article.objects.get(article_number="44001")
    assert article.price_sek == Decimal("3100.50")
    assert article.out_of_stock  # logistics' (or the admin's), never the file's


def test_cat_1_the_import_never_overwrites_an_agreements_validity(areas, tmp_path):
    """CAT-1: agreement owners set the validity period in the admin; the file has codes only."""
    path = write_catalogue(tmp_path / "a.csv", [row()])
    catalogue_import(path=path)
    agreement = Agreement.objects.get(code="AVT-2023-002")
    assert (agreement.valid_from, agreement.valid_until) == (None, None)
    agreement.valid_from = datetime.date(2023, 3, 1)
    agreement.valid_until = datetime.date(2027, 2, 28)
    agreement.save()
    catalogue_import(path=path)
    agreement.refresh_from_db()
    assert agreement.valid_until == datetime.date(2027, 2, 28)


def test_bad_rows_are_rejected_with_line_and_field_while_the_rest_load(areas, tmp_path):
    rows = [
        row(article_number="44001"),  # line 2, good
        row(article_number="44002", price_sek="tre tusen"),  # line 3
        row(article_number="44003", product_area="gardening"),  # line 4
        row(article_number="44004", assortment_days="10"),  # line 5
        row(article_number="44005", kind="accessory"),  # line 6: no main article
        row(article_number="44006", iso9999="1206"),  # line 7
        row(article_number="44007", in_assortment="ja"),  # line 8
        row(article_number="44001", name="Dubblett"),  # line 9: same number again
        row(article_number="44008", replacement_kind="sometimes"),  # line 10
        row(article_number="44009", name=""),  # line 11
        row(article_number="44010", price_sek="12.345"),  # line 12
        row(article_number="44011", supply="lease"),  # line 13
        row(article_number="44012"),  # line 14, good
    ]
    report = catalogue_import(path=write_catalogue(tmp_path / "c.csv", rows))
    assert (report.created, report.rejected) == (2, 11)
    got = {(r.line, r.field) for r in report.rejections}
    assert got == {
        (3, "price_sek"),
        (4, "product_area"),
        (5, "assortment_days"),
        (6, "main_article"),
        (7, "iso9999"),
        (8, "in_assortment"),
        (9, "article_number"),
        (10, "replacement_kind"),
        (11, "name"),
        (12, "price_sek"),
        (13, "supply"),
    }
    assert "line 3 (44002): price_sek:" in str(report.rejections[0])
    assert set(Article.objects.values_list("article_number", flat=True)) == {"44001", "44012"}


def test_an_accessory_may_come_before_its_main_article(areas, tmp_path):
    rows = [
        row(article_number="44010", kind="accessory", main_article="44001", name="Rollatorkorg"),
        row(article_number="44020", kind="accessory", main_article="44999", name="Korg"),
        row(article_number="44030", kind="accessory", main_article="44010", name="Lock"),
        row(article_number="44001"),
    ]
    report = catalogue_import(path=write_catalogue(tmp_path / "d.csv", rows))
    assert report.created == 2
    assert {(r.line, r.field) for r in report.rejections} == {
        (3, "main_article"),
        (4, "main_article"),
    }
    assert "44999" in str(report.rejections[0])
    assert "not a main article" in str(report.rejections[1])
    basket = Article.objects.select_related("main_article").get(article_number="44010")
    assert basket.main_article is not None
    assert basket.main_article.article_number == "44001"


def test_an_accessory_of_a_rejected_main_article_is_rejected_too(areas, tmp_path):
    rows = [
        row(article_number="44010", kind="accessory", main_article="44001", name="Rollatorkorg"),
        row(article_number="44001", price_sek="-1"),
    ]
    report = catalogue_import(path=write_catalogue(tmp_path / "e.csv", rows))
    assert [(r.line, r.field) for r in report.rejections] == [
        (2, "main_article"),
        (3, "price_sek"),
    ]
    assert "44001 was rejected" in report.rejections[0].reason
    assert not Article.objects.exists()


def test_missing_agreements_are_created_without_a_period_and_suppliers_must_match(areas, tmp_path):
    rows = [row(), row(article_number="44002", supplier="Annan leverantör AB")]
    report = catalogue_import(path=write_catalogue(tmp_path / "f.csv", rows))
    assert report.created == 1
    assert [(r.line, r.field) for r in report.rejections] == [(3, "supplier")]
    # The rejected row's supplier was not left behind either.
    assert list(Supplier.objects.values_list("name", flat=True)) == ["Gångbolaget AB"]
    assert report.suppliers_created == 1
    assert report.agreements_created == 1


def test_presc_8_replacement_groups_keep_their_kind(areas, tmp_path):
    """PRESC-8 data side: a group's kind comes from its first row and is changed in the admin."""
    rows = [row(), row(article_number="44002", replacement_kind="fixed")]
    report = catalogue_import(path=write_catalogue(tmp_path / "g.csv", rows))
    assert [(r.line, r.field) for r in report.rejections] == [(3, "replacement_kind")]
    assert ReplacementGroup.objects.get(code="G-ROLL").kind == ReplacementKind.OPTIONAL


def test_a_file_without_a_column_is_refused_whole(areas, tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("article_number,name\n44001,Rollator\n", encoding="utf-8")
    with pytest.raises(CatalogueFileError, match="missing column"):
        catalogue_import(path=path)
    assert not Article.objects.exists()


def test_a_row_with_too_many_cells_is_rejected(areas, tmp_path):
    path = write_catalogue(tmp_path / "i.csv", [row()])
    with path.open("a", encoding="utf-8") as handle:
        handle.write(",".join(row(article_number="44002").values()) + ",extra\n")
    report = catalogue_import(path=path)
    assert report.created == 1
    assert [(r.line, r.field) for r in report.rejections] == [(3, "row")]


def test_a_dry_run_writes_nothing(shared_dir):
    report = catalogue_import(
        path=shared_dir / "data" / "catalogue.csv",
        product_areas_path=shared_dir / "data" / "product_areas.csv",
        dry_run=True,
    )
    assert report.created == 53
    assert not Article.objects.exists()
    assert not ProductArea.objects.exists()


def test_the_command_prints_a_summary_and_fails_on_rejections(areas, tmp_path, capsys):
    path = write_catalogue(tmp_path / "j.csv", [row(), row(article_number="44002", kind="x")])
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_catalogue", str(path))
    assert exit_info.value.code == 1
    out = capsys.readouterr().out
    assert "rejected line 3 (44002): kind:" in out
    assert "2 row(s): 1 created, 0 updated, 0 unchanged, 1 rejected" in out


def test_the_command_loads_product_areas_and_reports_json(shared_dir, capsys):
    call_command(
        "import_catalogue",
        str(shared_dir / "data" / "catalogue.csv"),
        "--product-areas",
        str(shared_dir / "data" / "product_areas.csv"),
        "--json",
    )
    report = json.loads(capsys.readouterr().out)
    assert (report["created"], report["rejected"]) == (53, 0)
    assert report["product_areas"]["created"] == 12


def test_the_command_refuses_an_unreadable_file(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_catalogue", str(tmp_path / "missing.csv"))
    assert exit_info.value.code == 2
    assert "nothing loaded" in capsys.readouterr().err
