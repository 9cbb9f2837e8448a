"""Writes of the catalogue: loading the region's catalogue file and its product areas.

The file formats are described column by column in docs/catalogue.md. The catalogue import is
idempotent (an article is keyed by its article number; a row equal to what is stored changes
nothing), rejects each bad row with its line number and the field at fault while the other rows
load, and leaves alone what the admin owns: an agreement's validity period (CAT-1) and an
article's stock state (logistics, PRESC-8).
"""

from __future__ import annotations

import csv
import datetime
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction

from prescriptions.models import (
    Agreement,
    Article,
    ArticleKind,
    CompetenceArea,
    ProductArea,
    ReplacementGroup,
    ReplacementKind,
    Supplier,
    Supply,
)

CATALOGUE_COLUMNS = (
    "article_number",
    "name",
    "iso9999",
    "product_area",
    "price_sek",
    "kind",
    "main_article",
    "advanced_service",
    "assortment_days",
    "in_assortment",
    "lifespan_years",
    "supply",
    "replacement_group",
    "replacement_kind",
    "supplier",
    "agreement",
    "weight_kg",
    "length_cm",
    "girth_cm",
)
# Optional columns (CAT-2, the national catalogue's exchange): when the file has the column, the
# row sets the value; without it, what is stored stays. An agreement's period is taken only
# when the import creates the agreement (an existing one is the agreement owner's, CAT-1). The
# article's publication and withdrawal days come last so that files written before they existed
# keep their column order.
OPTIONAL_COLUMNS = (
    "description",
    "agreement_valid_from",
    "agreement_valid_until",
    "assortment_from",
    "assortment_until",
)
# The optional article fields: set only by a file that has their column.
_OPTIONAL_ARTICLE_FIELDS = ("description", "assortment_from", "assortment_until")
DESCRIPTION_MAX = 2000
PRODUCT_AREA_COLUMNS = ("product_area", "name_sv", "competence_area", "competence_area_sv", "lmn")

# The article fields the file sets; anything else on an article (out_of_stock) is not the
# file's to change.
_ARTICLE_FIELDS = (
    "name",
    "iso9999",
    "product_area_id",
    "price_sek",
    "kind",
    "advanced_service",
    "assortment_days",
    "in_assortment",
    "lifespan_years",
    "supply",
    "weight_kg",
    "length_cm",
    "girth_cm",
)
_ARTICLE_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,31}")
_ISO9999 = re.compile(r"\d{6}")
_CODE = re.compile(r"[a-z0-9_]{1,64}")
_BOOLEANS = {"yes": True, "no": False}


class CatalogueFileError(Exception):
    """The file as a whole cannot be read (missing file, wrong header); nothing was loaded."""


@dataclass(frozen=True)
class RowRejection:
    line: int
    field: str
    reason: str
    article_number: str = ""

    def __str__(self) -> str:
        article = f" ({self.article_number})" if self.article_number else ""
        return f"line {self.line}{article}: {self.field}: {self.reason}"


@dataclass
class ProductAreaImportReport:
    """What ``product_areas_import`` did; counts are of product areas."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    competence_areas_created: int = 0
    rejections: list[RowRejection] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rejected": self.rejected}


@dataclass
class CatalogueImportReport:
    """What ``catalogue_import`` did; counts are of articles (rows of the file)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    suppliers_created: int = 0
    agreements_created: int = 0
    replacement_groups_created: int = 0
    rejections: list[RowRejection] = field(default_factory=list)
    product_areas: ProductAreaImportReport | None = None
    dry_run: bool = False

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    def summary(self) -> str:
        prefix = "DRY RUN: nothing was written. " if self.dry_run else ""
        return (
            f"{prefix}{self.rows} row(s): {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.rejected} rejected; "
            f"new suppliers {self.suppliers_created}, new agreements {self.agreements_created}, "
            f"new replacement groups {self.replacement_groups_created}."
        )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rejected"] = self.rejected
        data["rejections"] = [str(r) for r in self.rejections]
        if self.product_areas is not None:
            data["product_areas"] = self.product_areas.as_dict()
            data["product_areas"]["rejections"] = [str(r) for r in self.product_areas.rejections]
        return data


class _RowError(Exception):
    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field_name
        self.reason = reason


@dataclass
class _ArticleRow:
    line: int
    article_number: str
    values: dict[str, Any]
    main_article: str
    supplier: str
    agreement: str
    replacement_group: str
    replacement_kind: str
    # (valid from, valid until) when the file has the columns: for an agreement it creates.
    agreement_period: tuple[datetime.date | None, datetime.date | None] | None = None


class _DryRunRollback(Exception):
    pass


def _read_rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise CatalogueFileError(f"{path}: cannot be read: {error.strerror}") from error
    with handle:
        reader = csv.DictReader(handle)
        header = tuple(reader.fieldnames or ())
        missing = [c for c in columns if c not in header]
        if missing:
            raise CatalogueFileError(f"{path}: missing column(s): {', '.join(missing)}")
        try:
            for row in reader:
                if None in row:
                    # More cells than the header has: a misplaced comma; never guess.
                    yield reader.line_num, {"__extra__": "1"}
                    continue
                yield reader.line_num, {k: (v or "").strip() for k, v in row.items()}
        except (csv.Error, UnicodeDecodeError) as error:
            raise CatalogueFileError(f"{path}: line {reader.line_num}: {error}") from error


@transaction.atomic
def product_areas_import(*, path: Path) -> ProductAreaImportReport:
    """Load product areas and the competence areas that cover them (product_areas.csv).

    Keyed by the product area's code; the competence area is created or renamed from the row.
    A bad row is rejected with its line number; the others load.
    """
    report = ProductAreaImportReport()
    for line, row in _read_rows(path, PRODUCT_AREA_COLUMNS):
        report.rows += 1
        try:
            if "__extra__" in row:
                raise _RowError("row", "more cells than the header has columns")
            code = _code(row, "product_area")
            name = _text(row, "name_sv", 200)
            competence_code = _code(row, "competence_area")
            competence_name = _text(row, "competence_area_sv", 200)
            medicine_related = _boolean(row, "lmn")
        except _RowError as error:
            report.rejections.append(RowRejection(line, error.field, error.reason))
            continue
        competence, created = CompetenceArea.objects.get_or_create(
            code=competence_code, defaults={"name": competence_name}
        )
        report.competence_areas_created += int(created)
        if not created and competence.name != competence_name:
            competence.name = competence_name
            competence.save(update_fields=["name"])
        wanted = {
            "name": name,
            "competence_area_id": competence_code,
            "medicine_related": medicine_related,
        }
        area = ProductArea.objects.filter(code=code).first()
        if area is None:
            ProductArea.objects.create(code=code, **wanted)
            report.created += 1
        elif any(getattr(area, k) != v for k, v in wanted.items()):
            ProductArea.objects.filter(code=code).update(**wanted)
            report.updated += 1
        else:
            report.unchanged += 1
    return report


def catalogue_import(
    *, path: Path, product_areas_path: Path | None = None, dry_run: bool = False
) -> CatalogueImportReport:
    """Load the region's catalogue file (format: docs/catalogue.md) and return what happened.

    ``product_areas_path``: load product_areas.csv first (``product_areas_import``), so that a
    fresh database can take the catalogue in one call; the demo calls
    ``catalogue_import(path=shared/data/catalogue.csv,
    product_areas_path=shared/data/product_areas.csv)``.

    - Idempotent: articles are keyed by article number; a row equal to what is stored counts as
      unchanged and writes nothing. Articles missing from the file are left as they are (phasing
      out is the ``in_assortment`` column, not a missing row).
    - Each bad row is rejected with its line number and a reason naming the field; the other rows
      load. An accessory may come before its main article in the file; it is rejected only when
      its main article is neither in the file (validly) nor in the database, or is not a main
      article.
    - Suppliers, agreements and replacement groups named in the file are created when missing.
      An agreement is created without a validity period, and an existing one is never changed:
      its period is set in the admin (CAT-1). A row naming an agreement of another supplier is
      rejected. The first row naming a replacement group sets the kind of a new group; a row
      giving a group another kind than it has is rejected (the kind is changed in the admin).
    - The optional columns (CAT-2) set the description and the article's publication and
      withdrawal days (``assortment_from``/``assortment_until``) when the file has them; a row
      phased out (``in_assortment`` no) clears the days, and a bad day rejects its row.
    - ``out_of_stock`` is not in the file and never touched (logistics or the admin keep it).
    - ``dry_run``: everything is checked and counted, then rolled back.

    Raises ``CatalogueFileError`` when the file cannot be read or lacks a column; then nothing
    is loaded.
    """
    report = CatalogueImportReport(dry_run=dry_run)
    try:
        with transaction.atomic():
            if product_areas_path is not None:
                report.product_areas = product_areas_import(path=product_areas_path)
            _catalogue_apply(path, report)
            if dry_run:
                raise _DryRunRollback
    except _DryRunRollback:
        pass
    return report


def _catalogue_apply(path: Path, report: CatalogueImportReport) -> None:
    areas = set(ProductArea.objects.values_list("code", flat=True))
    rows: list[_ArticleRow] = []
    first_line: dict[str, int] = {}
    rejected_numbers: set[str] = set()
    for line, raw in _read_rows(path, CATALOGUE_COLUMNS):
        report.rows += 1
        number = raw.get("article_number", "")
        try:
            if "__extra__" in raw:
                raise _RowError("row", "more cells than the header has columns")
            row = _parse_article(line, raw, areas)
        except _RowError as error:
            report.rejections.append(RowRejection(line, error.field, error.reason, number))
            rejected_numbers.add(number)
            continue
        if row.article_number in first_line:
            report.rejections.append(
                RowRejection(
                    line,
                    "article_number",
                    f"already on line {first_line[row.article_number]} of this file",
                    row.article_number,
                )
            )
            continue
        first_line[row.article_number] = line
        rows.append(row)

    # Main articles and consumables first, so that an accessory may come before its main
    # article in the file; then accessories, whose main article is by now stored.
    kinds_in_file = {r.article_number: r.values["kind"] for r in rows}
    applied: set[str] = set()
    for row in sorted(rows, key=lambda r: (r.values["kind"] == ArticleKind.ACCESSORY, r.line)):
        try:
            main_id = _main_article_id(row, kinds_in_file, applied, rejected_numbers)
            with transaction.atomic():
                outcome, made = _apply_article(row, main_id)
        except _RowError as error:
            report.rejections.append(
                RowRejection(row.line, error.field, error.reason, row.article_number)
            )
            continue
        except IntegrityError as error:
            # Checked above; a database constraint is the last line of defence, never a crash.
            report.rejections.append(
                RowRejection(
                    row.line, "row", f"refused by the database: {error}", row.article_number
                )
            )
            continue
        applied.add(row.article_number)
        setattr(report, outcome, getattr(report, outcome) + 1)
        # Counted only once the row's savepoint holds: a rejected row created nothing.
        for name, count in made.items():
            setattr(report, name, getattr(report, name) + count)
    report.rejections.sort(key=lambda r: r.line)


def _parse_article(line: int, raw: dict[str, str], areas: set[str]) -> _ArticleRow:
    number = raw["article_number"]
    if not _ARTICLE_NUMBER.fullmatch(number):
        raise _RowError("article_number", "must be 1-32 letters, digits or hyphens")
    iso = raw["iso9999"]
    if iso and not _ISO9999.fullmatch(iso):
        raise _RowError("iso9999", f"{iso!r} is not six digits (or empty)")
    area = raw["product_area"]
    if area not in areas:
        raise _RowError("product_area", f"unknown product area {area!r}")
    kind = _choice(raw, "kind", ArticleKind.values)
    main = raw["main_article"]
    if kind == ArticleKind.ACCESSORY and not main:
        raise _RowError("main_article", "an accessory needs its main article")
    if kind != ArticleKind.ACCESSORY and main:
        raise _RowError("main_article", f"only an accessory has a main article (kind is {kind})")
    if main == number:
        raise _RowError("main_article", "an article cannot be its own main article")
    days = _integer(raw, "assortment_days")
    if days not in (7, 17):
        raise _RowError("assortment_days", "must be 7 or 17")
    group = raw["replacement_group"]
    group_kind = raw["replacement_kind"]
    if group and group_kind not in ReplacementKind.values:
        raise _RowError(
            "replacement_kind", f"must be one of {', '.join(ReplacementKind.values)} for a group"
        )
    if group_kind and not group:
        raise _RowError("replacement_group", "a replacement kind needs its group")
    if len(group) > 64:
        raise _RowError("replacement_group", "longer than 64 characters")
    agreement = raw["agreement"]
    if not agreement or len(agreement) > 64:
        raise _RowError("agreement", "must be an agreement code of 1-64 characters")
    supplier = _text(raw, "supplier", 200)
    values: dict[str, Any] = {
        "name": _text(raw, "name", 200),
        "iso9999": iso,
        "product_area_id": area,
        "price_sek": _decimal(raw, "price_sek", places=2, digits=12),
        "kind": kind,
        "advanced_service": _boolean(raw, "advanced_service"),
        "assortment_days": days,
        "in_assortment": _boolean(raw, "in_assortment"),
        "lifespan_years": _integer(raw, "lifespan_years"),
        "supply": _choice(raw, "supply", Supply.values),
        "weight_kg": _decimal(raw, "weight_kg", places=3, digits=8),
        "length_cm": _integer(raw, "length_cm"),
        "girth_cm": _integer(raw, "girth_cm"),
    }
    if "description" in raw:
        if len(raw["description"]) > DESCRIPTION_MAX:
            raise _RowError("description", f"longer than {DESCRIPTION_MAX} characters")
        values["description"] = raw["description"]
    values.update(_assortment_days(raw, in_assortment=values["in_assortment"]))
    period = None
    if "agreement_valid_from" in raw or "agreement_valid_until" in raw:
        period = (_date(raw, "agreement_valid_from"), _date(raw, "agreement_valid_until"))
        if period[0] and period[1] and period[1] < period[0]:
            raise _RowError("agreement_valid_until", "is before agreement_valid_from")
    return _ArticleRow(line, number, values, main, supplier, agreement, group, group_kind, period)


def _main_article_id(
    row: _ArticleRow, kinds_in_file: dict[str, str], applied: set[str], rejected: set[str]
) -> int | None:
    if not row.main_article:
        return None
    main = row.main_article
    if main in rejected and main not in applied:
        raise _RowError("main_article", f"main article {main} was rejected")
    if main in kinds_in_file and main not in applied:
        # In the file but rejected itself, or an accessory (never stored before accessories).
        reason = (
            f"{main} is an accessory, not a main article"
            if kinds_in_file[main] == ArticleKind.ACCESSORY
            else f"main article {main} was rejected"
        )
        raise _RowError("main_article", reason)
    stored = Article.objects.filter(article_number=main).values_list("pk", "kind").first()
    if stored is None:
        raise _RowError("main_article", f"no article {main} in the file or the catalogue")
    if stored[1] != ArticleKind.MAIN:
        raise _RowError("main_article", f"{main} is not a main article")
    return int(stored[0])


def _apply_article(row: _ArticleRow, main_id: int | None) -> tuple[str, dict[str, int]]:
    made = {"suppliers_created": 0, "agreements_created": 0, "replacement_groups_created": 0}
    supplier, created = Supplier.objects.get_or_create(name=row.supplier)
    made["suppliers_created"] += int(created)
    # CAT-1: the validity period is the agreement owner's, set in the admin; never overwritten.
    valid_from, valid_until = row.agreement_period or (None, None)
    agreement, created = Agreement.objects.get_or_create(
        code=row.agreement,
        defaults={"supplier": supplier, "valid_from": valid_from, "valid_until": valid_until},
    )
    made["agreements_created"] += int(created)
    if agreement.supplier_id != supplier.pk:
        raise _RowError(
            "supplier",
            f"agreement {row.agreement} is with {agreement.supplier}, not {row.supplier}",
        )
    group_id = None
    if row.replacement_group:
        group, created = ReplacementGroup.objects.get_or_create(
            code=row.replacement_group, defaults={"kind": row.replacement_kind}
        )
        made["replacement_groups_created"] += int(created)
        if group.kind != row.replacement_kind:
            raise _RowError(
                "replacement_kind",
                f"group {group.code} is {group.kind}; change its kind in the admin",
            )
        group_id = group.pk
    wanted = {
        **row.values,
        "main_article_id": main_id,
        "agreement_id": agreement.pk,
        "replacement_group_id": group_id,
    }
    article = Article.objects.select_for_update().filter(article_number=row.article_number).first()
    if article is None:
        Article.objects.create(article_number=row.article_number, **wanted)
        return "created", made
    if all(getattr(article, k) == v for k, v in wanted.items()):
        return "unchanged", made
    for key, value in wanted.items():
        setattr(article, key, value)
    optional = [name for name in _OPTIONAL_ARTICLE_FIELDS if name in row.values]
    article.save(
        update_fields=[
            *_ARTICLE_FIELDS,
            *optional,
            "main_article",
            "agreement",
            "replacement_group",
        ]
    )
    return "updated", made


def _text(row: dict[str, str], name: str, max_length: int) -> str:
    value = row[name]
    if not value:
        raise _RowError(name, "is empty")
    if len(value) > max_length:
        raise _RowError(name, f"longer than {max_length} characters")
    return value


def _code(row: dict[str, str], name: str) -> str:
    value = row[name]
    if not _CODE.fullmatch(value):
        raise _RowError(name, f"{value!r} is not a code (a-z, 0-9, _)")
    return value


def _choice(row: dict[str, str], name: str, allowed: list[str]) -> str:
    value = row[name]
    if value not in allowed:
        raise _RowError(name, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _boolean(row: dict[str, str], name: str) -> bool:
    value = row[name]
    if value not in _BOOLEANS:
        raise _RowError(name, f"{value!r} is not yes or no")
    return _BOOLEANS[value]


def _integer(row: dict[str, str], name: str) -> int:
    value = row[name]
    if not value.isdigit() or len(value) > 9:
        raise _RowError(name, f"{value!r} is not a whole number of at least 0")
    return int(value)


def _date(row: dict[str, str], name: str) -> datetime.date | None:
    value = row.get(name, "")
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise _RowError(name, f"{value!r} is not a date (YYYY-MM-DD)") from None


def _assortment_days(raw: dict[str, str], *, in_assortment: bool) -> dict[str, Any]:
    """The publication and withdrawal days (CAT-1) the row sets.

    Only an article in the assortment has them: a withdrawal that took effect is
    ``in_assortment`` no with no days, as ``article_withdraw`` leaves it, so such a row clears
    them even in a file without their columns (else a later export would carry stale days).
    """
    days: dict[str, Any] = {}
    for name in ("assortment_from", "assortment_until"):
        if name in raw:
            days[name] = _date(raw, name)
            if days[name] is not None and not in_assortment:
                raise _RowError(name, "is given for an article not in the assortment")
    if not in_assortment:
        return {"assortment_from": None, "assortment_until": None}
    start, end = days.get("assortment_from"), days.get("assortment_until")
    if start and end and end < start:
        raise _RowError("assortment_until", "is before assortment_from")
    return days


def _decimal(row: dict[str, str], name: str, *, places: int, digits: int) -> Decimal:
    value = row[name]
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise _RowError(name, f"{value!r} is not a number (use a point for decimals)") from None
    if not number.is_finite() or number < 0:
        raise _RowError(name, f"{value!r} is not a number of at least 0")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise _RowError(name, f"{value!r} has more than {places} decimals")
    quantized = number.quantize(Decimal(1).scaleb(-places))
    if len(quantized.as_tuple().digits) > digits:
        raise _RowError(name, f"{value!r} is too large")
    return quantized
