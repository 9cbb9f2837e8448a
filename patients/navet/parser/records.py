"""What the Navet parser yields: records, rejections, the file's head, and the one error that
refuses a whole file. The format's element names used in more than one place are here too.

LEAK-1: ``Rejection`` keeps the record as delivered (``raw_xml``) and the number it names out of
``repr()``; nothing else here holds personal data outside ``NavetRecord``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROOT_TAG = "Navetavisering"
POSTS_TAG = "Folkbokforingsposter"
POST_TAG = "Folkbokforingspost"
RELATION_KINDS = frozenset({"B", "MO", "FA", "F", "V", "VF", "M", "P"})
DEREGISTRATION_CODES = frozenset({"AV", "UV", "GN", "AN", "AS", "GS", "OB", "TA"})


class NavetFileError(Exception):
    """The file cannot be read as a Navet notification at all (the whole file is refused)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Pickled:
    """Pickled as the class and its field values, rebuilt by the constructor: the parser process
    sends every record to the importer (patients.navet.pipeline), and the state-setting way
    pickle rebuilds a frozen dataclass with slots costs several times more per record."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        names: tuple[str, ...] = self.__slots__
        return (type(self), tuple(getattr(self, name) for name in names))


@dataclass(frozen=True, slots=True)
class FileInfo:
    bestallnings_id: str | None
    filnamn: str | None
    filnr: int | None
    effective_date: str | None
    record_count: int | None  # AntalPoster


@dataclass(frozen=True, slots=True)
class SwedishAddress(_Pickled):
    """``Folkbokforingsadress`` or ``SarskildPostadress``."""

    care_of: str | None
    street1: str | None
    street2: str | None
    postal_code: str | None
    city: str | None


@dataclass(frozen=True, slots=True)
class ForeignAddress(_Pickled):
    """``Utlandsadress``."""

    street1: str | None
    street2: str | None
    street3: str | None
    country: str | None


@dataclass(frozen=True, slots=True)
class Relation(_Pickled):
    kind: str  # B, MO, FA, F, V, VF, M, P
    identity_number: str | None  # canonical 12 digits for a valid PersonNr, else None
    from_date: str | None
    to_date: str | None


@dataclass(frozen=True, slots=True)
class NavetRecord(_Pickled):
    position: int  # 1-based index of the Folkbokforingspost in the file
    post_id: str | None
    identity_number: str
    coordination_number: bool
    referral_number: str | None  # HanvisningsPersonNr: the person's new number
    confidentiality_marking: bool  # Sekretessmarkering J
    protected_registration: bool  # SkyddadFolkbokforing J
    given_names: str | None
    middle_name: str | None
    surname: str | None
    name_in_use_marker: int | None
    county_code: str | None
    municipality_code: str | None
    registration_date: str | None
    registered_address: SwedishAddress | None
    special_postal_address: SwedishAddress | None
    foreign_address: ForeignAddress | None
    deregistration_code: str | None
    deregistration_date: str | None
    relations: tuple[Relation, ...]


@dataclass(frozen=True, slots=True)
class Rejection(_Pickled):
    """A record that cannot be applied. ``reason`` never holds a name, an identity number or an
    address (LEAK-1); ``raw_xml`` is the record as delivered, for the encrypted quarantine: it
    holds personal data, so it is left out of ``repr()`` and must never be logged or shown."""

    position: int
    post_id: str | None
    reason: str
    raw_xml: str = field(default="", repr=False)
    # PROT-1 fail-safe: a rejected record that carries a protection flag must still protect the
    # person. Both kept out of repr() for the same reason as raw_xml.
    identity_number: str | None = field(default=None, repr=False)
    protection_flagged: bool = field(default=False, repr=False)
