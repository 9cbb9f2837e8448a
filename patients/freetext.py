"""Free text that names a patient (LEAK-1, LEAK-2): the patient's names and address in text.

Pure Python: the caller loads the identity. Words are compared whole, ignoring case and accents
("Åsa" is "asa", "GÖMDASSON" is "gomdasson"), after the text is normalised as for identity
numbers (percent-decoded, NFKC). Identity numbers themselves are
:func:`patients.identity.contains_identity_number`'s.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from patients.identity import normalise_text

if TYPE_CHECKING:
    from patients.models import PatientIdentity

__all__ = ["identity_words", "mentions_any", "mentions_patient"]

# Name parts shorter than this are too common to refuse text for ("Bo", "Li", "af").
_MIN_NAME_LENGTH: Final = 3
# Name parts that are also everyday words in what people write here ("två gånger per dag") or
# particles of a surname ("von", "van der"): refusing them would refuse ordinary text.
_EVERYDAY_WORDS: Final = frozenset({"per", "von", "van", "der", "den", "del", "des", "och"})
# A street name shorter than this is a word of its own ("Box").
_MIN_STREET_LENGTH: Final = 4
_ADDRESS_FIELDS: Final = ("registered_address", "special_postal_address", "foreign_address")
_STREET_KEYS: Final = ("street1", "street2", "street3")
_LETTERS: Final = re.compile(r"[^\W\d_]+")


def _fold(text: str) -> str:
    """Lower case without accents, for comparing names as people spell them."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _whole(phrase: str) -> re.Pattern[str]:
    words = [re.escape(word) for word in phrase.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")


def identity_words(identity: PatientIdentity, *, addresses: bool = False) -> list[str]:
    """The words that name the patient in free text (LEAK-1, LEAK-2): each given, middle and
    surname part of two letters or more, and with ``addresses`` the street lines of the
    registered and the special postal address."""
    names = f"{identity.given_names} {identity.middle_name} {identity.surname}"
    words = [word for word in re.split(r"[\s-]+", names) if len(word) >= 2]
    if addresses:
        for address in (identity.registered_address, identity.special_postal_address):
            if isinstance(address, dict):
                words += [
                    str(address.get(key) or "")
                    for key in ("street1", "street2")
                    if address.get(key)
                ]
    return words


def mentions_any(text: str, words: Iterable[str]) -> bool:
    """Whether ``text`` contains one of ``words`` (or phrases) as a whole word, ignoring case
    and accents."""
    folded = _fold(text)
    return any(_whole(_fold(word)).search(folded) for word in words if word.strip())


def _addresses(identity: PatientIdentity) -> list[dict[str, object]]:
    found = [getattr(identity, name) for name in _ADDRESS_FIELDS]
    return [address for address in found if isinstance(address, dict)]


def _patient_phrases(identity: PatientIdentity, *, city: bool) -> list[str]:
    """Each name part, the street names and c/o names of every address, and with ``city`` the
    cities: the words that would tell a reader who and where the patient is."""
    names = f"{identity.given_names} {identity.middle_name} {identity.surname}"
    phrases = [
        word
        for word in _LETTERS.findall(names)
        if len(word) >= _MIN_NAME_LENGTH and _fold(word) not in _EVERYDAY_WORDS
    ]
    for address in _addresses(identity):
        for key in _STREET_KEYS:
            # The street name without the number, door or flat ("Gömdavägen" of "Gömdavägen 7").
            street = re.split(r"\d", str(address.get(key) or ""), maxsplit=1)[0].strip(" ,.")
            if len(street) >= _MIN_STREET_LENGTH:
                phrases.append(street)
        care_of = str(address.get("care_of") or "")
        phrases += [
            word
            for word in _LETTERS.findall(care_of)
            if len(word) >= _MIN_NAME_LENGTH and _fold(word) not in _EVERYDAY_WORDS | {"c", "o"}
        ]
        if city and address.get("city"):
            phrases.append(str(address["city"]))
    return phrases


def _postal_codes(identity: PatientIdentity) -> list[re.Pattern[str]]:
    codes = [str(address.get("postal_code") or "") for address in _addresses(identity)]
    codes = [code.replace(" ", "") for code in codes]
    return [
        re.compile(rf"(?<!\d){code[:3]}\s?{code[3:]}(?!\d)")
        for code in codes
        if len(code) == 5 and code.isdigit()
    ]


def _local_part_named(email: str, text: str) -> bool:
    """The part of an e-mail address before @ as a word of its own (``hg1977``), when it is
    long enough to be the person's own and not a common word."""
    local = email.partition("@")[0]
    if len(local) < 5:
        return False
    return re.search(rf"(?<![\w.]){re.escape(local)}(?!\w)", text.lower()) is not None


def mentions_patient(text: str, identity: PatientIdentity, *, city: bool = True) -> bool:
    """LEAK-1, LEAK-2: whether ``text`` names the patient of ``identity``: the personnummer or
    reservnummer, a name part, a street or c/o name, the postal code, and with ``city`` the city
    of any address. Whole words only, ignoring case and accents."""
    normal = normalise_text(text)
    compact = re.sub(r"[\W_]", "", normal).upper()
    number = identity.personal_identity_number
    # The number as stored (12 digits), as most people write it (10), and the reservnummer.
    numbers = [number, number[2:] if number else None, identity.reserve_number]
    if any(number and str(number).upper() in compact for number in numbers):
        return True
    # LEAK-3: the phone number and e-mail address locate the person as an address does.
    phone = re.sub(r"\D", "", identity.phone or "")
    if len(phone) >= 7 and phone in re.sub(r"\D", "", text):
        return True
    email = (identity.email or "").strip().lower()
    if email and (email in text.lower() or _local_part_named(email, text)):
        return True
    if any(code.search(normal) for code in _postal_codes(identity)):
        return True
    return mentions_any(normal, _patient_phrases(identity, city=city))
