"""LETTER-4 with the catalogue's data: could a protected patient's articles travel as one parcel
through Skatteverket's forwarding service?

The forwarding service takes a parcel of at most 20 kg, 1 m long and 2.5 m length plus girth
(``protection.documents.letters.parcel_route`` holds the limits). The parcel is estimated from
the catalogue: the total weight of every line (weight times quantity), the longest article as
its length and the largest girth as its girth, which is what a box around the largest article
must at least measure. A parcel over the limits goes to the prescriber's unit, which is where
PRESC-2 sends a protected patient's delivery anyway: this check informs, it never changes the
delivery destination.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from prescriptions.models import PrescriptionLine
from protection.documents.letters import ParcelRoute, parcel_route

CM_PER_M = Decimal(100)


@dataclass(frozen=True)
class ParcelCheck:
    weight_kg: Decimal
    length_m: Decimal
    girth_m: Decimal
    route: ParcelRoute

    @property
    def through_forwarding(self) -> bool:
        return self.route is ParcelRoute.FORWARDING

    @property
    def length_plus_girth_m(self) -> Decimal:
        return self.length_m + self.girth_m


def parcel_check(lines: Iterable[PrescriptionLine]) -> ParcelCheck:
    """The parcel the lines would make (articles read from the lines, no query of its own when
    ``article`` is selected with them) and the route LETTER-4 gives it."""
    weight = Decimal(0)
    length_cm = girth_cm = 0
    for line in lines:
        article = line.article
        weight += article.weight_kg * line.quantity
        length_cm = max(length_cm, article.length_cm)
        girth_cm = max(girth_cm, article.girth_cm)
    length_m = Decimal(length_cm) / CM_PER_M
    girth_m = Decimal(girth_cm) / CM_PER_M
    return ParcelCheck(
        weight_kg=weight,
        length_m=length_m,
        girth_m=girth_m,
        route=parcel_route(weight_kg=weight, length_m=length_m, girth_m=girth_m),
    )
