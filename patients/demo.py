"""Demo data: the sample register file, regions, a few units and one user per role.

Every identity number comes from the sample Navet file, which holds only Skatteverket's test
personnummer (IDENT-4).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from patients import roles
from patients.models import Region, StaffProfile, Unit
from patients.navet.importer import register_files_import
from patients.navet.summary import ImportSummary
from patients.services import roles_sync

DEMO_UNITS = (
    ("SE2321000255-DEMO01", "Rehabenheten Malmö", "12"),
    ("SE2321000255-DEMO02", "Hörselvården Helsingborg", "12"),
    ("SE2321000255-DEMO03", "Hjälpmedelscentralen Skåne", "12"),
)


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str | None
    unit_hsa: str
    hsa_id: str
    # Staff names are not patient data: pages show who prescribed and who acted by name.
    full_name: str


DEMO_USERS = (
    DemoUser(
        "prescriber",
        roles.PRESCRIBER,
        "SE2321000255-DEMO01",
        "SE2321000255-U001",
        "Petra Arbetsterapeut",
    ),
    DemoUser(
        "prescriber2", roles.PRESCRIBER, "SE2321000255-DEMO02", "SE2321000255-U002", "Hugo Audionom"
    ),
    DemoUser(
        "customer_service",
        roles.CUSTOMER_SERVICE,
        "SE2321000255-DEMO03",
        "SE2321000255-U003",
        "Kim Kundtjänst",
    ),
    DemoUser(
        "logistics", roles.LOGISTICS, "SE2321000255-DEMO03", "SE2321000255-U004", "Leo Logistik"
    ),
    DemoUser(
        "technician", roles.TECHNICIAN, "SE2321000255-DEMO03", "SE2321000255-U005", "Tea Tekniker"
    ),
    DemoUser(
        "unit_manager",
        roles.UNIT_MANAGER,
        "SE2321000255-DEMO01",
        "SE2321000255-U006",
        "Ulla Enhetschef",
    ),
    DemoUser(
        "protection_admin",
        roles.PROTECTION_ADMIN,
        "SE2321000255-DEMO03",
        "SE2321000255-U007",
        "Sara Skyddsadministratör",
    ),
    DemoUser(
        "billing", roles.BILLING, "SE2321000255-DEMO03", "SE2321000255-U008", "Bo Fakturering"
    ),
    DemoUser(
        "assortment_owner",
        roles.ASSORTMENT_OWNER,
        "SE2321000255-DEMO03",
        "SE2321000255-U010",
        "Stina Sortimentsansvarig",
    ),
    # CAT-1: the catalogue's other owners (prescriptions/demo.py ties the supplier user to its
    # supplier and gives the agreement owner an agreement with rows to decide).
    DemoUser(
        "agreement_owner",
        roles.AGREEMENT_OWNER,
        "SE2321000255-DEMO03",
        "SE2321000255-U011",
        "Åsa Avtalsägare",
    ),
    DemoUser(
        "supplier_user",
        roles.SUPPLIER_USER,
        "SE2321000255-DEMO03",
        "SE2321000255-U012",
        "Lars Leverantör",
    ),
    DemoUser(
        "catalogue_role_assigner",
        roles.CATALOGUE_ROLE_ASSIGNER,
        "SE2321000255-DEMO03",
        "SE2321000255-U013",
        "Rut Behörighetstilldelare",
    ),
    DemoUser("admin", None, "SE2321000255-DEMO03", "SE2321000255-U009", "Ada Systemförvaltare"),
)


def demo_seed(*, shared_dir: Path, password: str) -> ImportSummary:
    """Idempotent: running it again changes nothing but the demo users' passwords."""
    with transaction.atomic():
        with (shared_dir / "data" / "regions.csv").open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                Region.objects.update_or_create(
                    county_code=row["county_code"],
                    defaults={"name": row["region"], "county_letter": row["county_letter"]},
                )
        units = {}
        for hsa_id, name, county in DEMO_UNITS:
            units[hsa_id], _ = Unit.objects.update_or_create(
                hsa_id=hsa_id, defaults={"name": name, "region_id": county}
            )
        roles_sync()
        user_model = get_user_model()
        for demo in DEMO_USERS:
            user, _ = user_model.objects.get_or_create(username=demo.username)
            user.is_superuser = demo.role is None
            user.is_staff = demo.role is None or demo.role in roles.ADMIN_ROLES
            user.is_active = True
            user.first_name, _sep, user.last_name = demo.full_name.partition(" ")
            user.set_password(password)
            user.save()
            if demo.role is not None:
                user.groups.set([Group.objects.get(name=demo.role)])
            StaffProfile.objects.update_or_create(
                user=user, defaults={"hsa_id": demo.hsa_id, "unit": units[demo.unit_hsa]}
            )
    return register_files_import(
        paths=[shared_dir / "specs" / "navet" / "sample-avisering.xml"], dry_run=False
    )
