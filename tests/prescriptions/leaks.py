"""The protected patient's name, address and special delivery agreement in the region page
tests, and the check that none of it reached a text."""

from __future__ import annotations

from tests.personas import PROTECTED_NUMBER

# What locates or names the protected patient in these tests; none of it may reach a user
# without a grant (LEAK-1, LEAK-3).
SECRET_NAME = ("Hemlig", "Gömdasson")
SECRET_ADDRESS = "Gömdavägen 7"
AGREEMENT = {
    "address": "Hemliga gränd 3, 211 99 Skuggby",
    "phone": "070-111 22 33",
    "door_code": "Portkod 9931X",
    "instructions": "Ring på hos grannen Skuggsson",
}
SECRETS = (
    *SECRET_NAME,
    SECRET_ADDRESS,
    PROTECTED_NUMBER,
    f"{PROTECTED_NUMBER[:8]}-{PROTECTED_NUMBER[8:]}",
    PROTECTED_NUMBER[2:],
    "Hemliga gränd",
    "Skuggby",
    "111 22 33",
    "9931X",
    "Skuggsson",
)


def leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]
