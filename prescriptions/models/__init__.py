"""The prescriptions floor: the catalogue, who may prescribe what, and the prescriptions."""

from prescriptions.models.catalogue import (
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
from prescriptions.models.people import (
    Authorisation,
    CompetenceRegistration,
    PrescriberProfile,
    PrescribingUnit,
)
from prescriptions.models.prescription import (
    CareEpisode,
    DeliveryKind,
    EligibilityRecord,
    Prescription,
    PrescriptionLine,
    PrescriptionState,
    PrescriptionTransition,
    Urgency,
)

__all__ = [
    "Agreement",
    "Article",
    "ArticleKind",
    "Authorisation",
    "CareEpisode",
    "CompetenceArea",
    "CompetenceRegistration",
    "DeliveryKind",
    "EligibilityRecord",
    "PrescriberProfile",
    "PrescribingUnit",
    "Prescription",
    "PrescriptionLine",
    "PrescriptionState",
    "PrescriptionTransition",
    "ProductArea",
    "ReplacementGroup",
    "ReplacementKind",
    "Supplier",
    "Supply",
    "Urgency",
]
