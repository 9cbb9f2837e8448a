"""PRESC-5, written once: may this prescriber prescribe personal devices in these product areas?

A prescriber prescribes personal devices only in product areas whose competence area has their
training registered, at a level their manager decided lets them prescribe (STAFF-3); an orderer
for a unit orders basic equipment for the unit, never personal devices. Starting a draft, adding
a line, accepting a replacement, a phone order and the evaluation on submit all ask
:func:`ordering_right`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from prescriptions.models import CompetenceLevel, PrescriberProfile, ProductArea
from prescriptions.services.errors import RuleRefused


@dataclass(frozen=True)
class OrderingRight:
    # False for an orderer for a unit (or no profile at all).
    personal_devices: bool
    # The names of the asked product areas without registered training, sorted.
    untrained_areas: tuple[str, ...]

    def check(self) -> None:
        """Raise the PRESC-5 refusal, with what the prescriber lacks, unless granted."""
        if not self.personal_devices:
            raise RuleRefused(
                _("An orderer for a unit cannot prescribe personal devices."), rule="PRESC-5"
            )
        if self.untrained_areas:
            raise RuleRefused(
                _("You have no registered training for %(area)s.")
                % {"area": ", ".join(self.untrained_areas)},
                rule="PRESC-5",
            )


def ordering_right(
    profile: PrescriberProfile | None, areas: Iterable[ProductArea] = ()
) -> OrderingRight:
    """PRESC-5 for ``profile`` in ``areas`` (none: only whether personal devices at all)."""
    areas = list(areas)
    personal = bool(profile and profile.prescribes_personal_devices)
    trained: set[str] = set()
    if profile is not None and areas:
        # STAFF-3: the training counts at the level its manager decided; "none" does not.
        trained = set(
            profile.competences.filter(level__in=CompetenceLevel.prescribing()).values_list(
                "competence_area_id", flat=True
            )
        )
    untrained = sorted({area.name for area in areas if area.competence_area_id not in trained})
    return OrderingRight(personal_devices=personal, untrained_areas=tuple(untrained))
