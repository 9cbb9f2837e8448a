"""LEAK-1, ACCESS-1: the admin ties no masked patient to a place.

Every admin registration whose model leads to a patient is found in ``admin.site._registry``
(a new one is covered without touching this file) and walked as every role, each made staff so
that the admin answers it, and as a superuser, none holding a grant for the protected patient in
the data: the plain list, a filter on every column with the masked row's own value, a search
for what locates the patient, and the list ordered by every column. A masked row may be found
only through columns it shows, and only columns that say nothing of where the patient is seen
(no unit, prescriber, region, user, patient or free text); its cells show none of that.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags.admin_list import items_for_result
from django.contrib.auth import get_user_model
from django.db import connection, models
from django.db.models import Q
from django.test import Client
from django.test.utils import CaptureQueriesContext

from patients.admin_masking import MaskedRowsAdmin
from patients.models import AccessEntry, Patient, Region, Unit
from patients.roles import ROLE_PERMISSIONS
from prescriptions.models import (
    CareEpisode,
    ConsultationActivity,
    PrescribingUnit,
    Prescription,
)
from prescriptions.services.activity import consultation_activity_create
from prescriptions.services.drafts import prescription_details_set
from prescriptions.services.region import supply_registration_request
from tests.factories import PatientIdentityFactory, PatientRelationFactory, UserFactory
from tests.personas import PROTECTED_NUMBER, ctx_for, give_grant, protected_identity_create
from tests.prescriptions.conftest import OTHER_REGION, article
from tests.prescriptions.drafting import draft_with, submit
from tests.prescriptions.factories import (
    CompetenceAreaFactory,
    PrescriberProfileFactory,
    SupplierFactory,
)

pytestmark = pytest.mark.django_db

NEED = "Rollator till trapphuset"
REGISTRATION_NAME = "Hemlig Gömdasson"
RELATIVE_NUMBER = "198912232397"
VISIBLE_NUMBER = "198912242388"
# Whatever points to one of these tells where a person is seen, or who they are (ACCESS-1).
PLACES = (Patient, CareEpisode, Unit, PrescribingUnit, Region, get_user_model())
# Roles that may list protected patients in the admin (birth year only, ACCESS-1).
LISTS_PROTECTED = {"protection_admin"}


def patient_paths(model: type[models.Model], depth: int = 2) -> list[str]:
    """The ORM paths from ``model`` to the patient its rows are about."""
    if model is Patient:
        return ["pk"]
    paths = []
    for field in model._meta.concrete_fields:
        target = field.related_model
        if not field.is_relation or target is None or target is get_user_model():
            continue
        if target is Patient:
            paths.append(field.name)
        elif depth > 1 and target is not model:
            paths += [
                f"{field.name}__{path}" for path in patient_paths(target, depth - 1) if path != "pk"
            ]
    return paths


def patient_admins() -> list[tuple[type[models.Model], Any]]:
    return [(m, a) for m, a in admin.site._registry.items() if patient_paths(m)]


def says_where(field: Any) -> bool:
    """A column that may never find or show a masked row: a place, a person or free text."""
    return (field.is_relation and field.related_model in PLACES) or isinstance(
        field, models.TextField | models.JSONField
    )


def masked_pks(model: type[models.Model], patient_ids: list[int]) -> set[Any]:
    if not patient_paths(model):
        return set()
    condition = Q()
    for path in patient_paths(model):
        condition |= Q(**{f"{path}__in": patient_ids})
    return set(model._default_manager.filter(condition).values_list("pk", flat=True))


@pytest.fixture
def world() -> dict[str, Any]:
    """A protected patient registered in another region and her relative (PROT-5), both masked
    for every user of the walk; the grant holder's prescription for her (with a need, an invoice
    mark and a supply registration) and consultation activity; and another prescriber's
    prescription and activity for an ordinary patient, so that lists have visible rows too."""
    consumables = CompetenceAreaFactory(code="consumables", name="Förbrukningsartiklar")
    holder = PrescriberProfileFactory(competences=[CompetenceAreaFactory(), consumables]).user
    other = PrescriberProfileFactory(competences=[CompetenceAreaFactory()]).user
    identity = protected_identity_create()
    Patient.objects.filter(pk=identity.patient_id).update(home_region_id=OTHER_REGION)
    give_grant(holder, identity)
    relative = PatientIdentityFactory(personal_identity_number=RELATIVE_NUMBER)
    PatientRelationFactory(patient=identity.patient, related_identity_number=RELATIVE_NUMBER)
    visible = PatientIdentityFactory(personal_identity_number=VISIBLE_NUMBER)
    ctx = ctx_for(holder, stepped_up=True)
    reference = draft_with(holder, identity.patient, article("300"), stepped_up=True)
    prescription_details_set(ctx=ctx, reference=reference, need=NEED)
    submit(holder, reference, stepped_up=True)
    consumable = draft_with(
        holder,
        identity.patient,
        article("300", area_code="incontinence", iso9999=""),
        stepped_up=True,
    )
    submit(holder, consumable, stepped_up=True)
    supply_registration_request(
        ctx=ctx, reference=consumable, identity_number=PROTECTED_NUMBER, name=REGISTRATION_NAME
    )
    consultation_activity_create(ctx=ctx, patient_reference=identity.patient.reference)
    submit(other, draft_with(other, visible.patient, article("300")))
    consultation_activity_create(ctx=ctx_for(other), patient_reference=visible.patient.reference)
    unit_name = holder.staff_profile.unit.name
    return {
        "masked": [identity.patient_id, relative.patient_id],
        "visible": visible.patient_id,
        "reference": identity.patient.reference,
        # What ties the masked patient to a place, or was written about her.
        "secrets": [re.escape(unit_name) + r"(?!\d)", holder.username, "trapphuset"],
        "search_terms": [unit_name, holder.username, "trapphuset", REGISTRATION_NAME],
    }


def every_role() -> list[Any]:
    users = [
        UserFactory(username=f"walk-{role}", role=role, is_staff=True) for role in ROLE_PERMISSIONS
    ]
    users.append(UserFactory(username="walk-superuser", is_staff=True, is_superuser=True))
    return users


def filter_queries(
    model: type[models.Model], row: models.Model
) -> list[tuple[str, dict[str, str]]]:
    """(column, query string) pairs that narrow the list to the masked row's own value."""
    queries = []
    for field in model._meta.concrete_fields:
        value = getattr(row, field.attname)
        if value is None or value == "":
            continue
        if isinstance(field, models.TextField | models.JSONField):
            if isinstance(value, str) and value:
                queries.append((field.name, {f"{field.name}__icontains": value[-6:]}))
            continue
        text = value.isoformat() if hasattr(value, "isoformat") else str(value)
        queries.append((field.name, {field.attname: text}))
        if field.is_relation:
            queries.append((field.name, {f"{field.name}__id__exact": text}))
    for path in patient_paths(model):
        if path != "pk":
            patient_id = model._default_manager.filter(pk=row.pk).values_list(path, flat=True)[0]
            queries.append((path.split("__")[0], {f"{path}__id__exact": str(patient_id)}))
    return queries


def order_columns(cl: Any) -> list[str]:
    """The model columns the list is ordered by (first part of each lookup)."""
    names = []
    for item in cl.queryset.query.order_by:
        name = item if isinstance(item, str) else getattr(item.expression, "name", "?")
        names.append(name.lstrip("-").split("__")[0])
    return names


class Walk:
    def __init__(self, client: Client, world: dict[str, Any]) -> None:
        self.client = client
        self.world = world
        self.problems: list[str] = []

    def get(self, url: str, query: dict[str, str]) -> Any:
        response = self.client.get(f"{url}?{urlencode(query)}" if query else url)
        if response.status_code not in (200, 302, 400, 403):
            self.problems.append(f"{url} {query}: answered {response.status_code}")
        if response.status_code != 200 or response.context is None:
            return None
        return response

    def found(self, response: Any, model: type[models.Model]) -> list[Any]:
        cl = response.context["cl"]
        masked = masked_pks(model, self.world["masked"])
        return [row for row in cl.result_list if row.pk in masked]

    def shown_columns(self, model_admin: Any) -> set[str]:
        return set(getattr(model_admin, "masked_row_fields", ()))

    def check_cells(self, where: str, response: Any, model: type[models.Model]) -> None:
        cl = response.context["cl"]
        for row in self.found(response, model):
            cells = "".join(items_for_result(cl, row, None))
            secrets = list(self.world["secrets"])
            if model is not Patient:
                secrets.append(re.escape(self.world["reference"]))
            for secret in secrets:
                if re.search(secret, cells):
                    self.problems.append(f"{where}: masked row {row.pk} shows {secret}")
        page = response.content.decode()
        for secret in ("trapphuset", REGISTRATION_NAME, PROTECTED_NUMBER):
            if secret in page:
                self.problems.append(f"{where}: the page shows {secret}")

    def run(self, model: type[models.Model], model_admin: Any) -> None:
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        plain = self.get(url, {})
        if plain is None:
            return
        self.check_cells(url, plain, model)
        self.check_order(url, {}, plain, model, model_admin)
        shown = self.shown_columns(model_admin)
        for row in model._default_manager.filter(pk__in=masked_pks(model, self.world["masked"])):
            for column, query in filter_queries(model, row):
                response = self.get(url, query)
                if response is None or not self.found(response, model):
                    continue
                self.check_cells(f"{url} {query}", response, model)
                field: Any = model._meta.get_field(column)
                if field.primary_key and not field.is_relation:
                    continue  # the row's own id
                if column not in shown or says_where(field):
                    self.problems.append(f"{url} {query}: a hidden column finds a masked row")
        for term in self.world["search_terms"] if model_admin.search_fields else ():
            response = self.get(url, {"q": term})
            if response is not None and self.found(response, model):
                self.problems.append(f"{url} q={term}: the search finds a masked row")
        for index in range(len(plain.context["cl"].list_display)):
            response = self.get(url, {"o": str(index)})
            if response is not None:
                self.check_order(url, {"o": str(index)}, response, model, model_admin)
        response = self.get(url, {"_facets": "1"})
        if response is not None and response.context["cl"].add_facets:
            self.problems.append(f"{url}: counts per filter choice include masked rows")

    def check_order(
        self, url: str, query: dict[str, str], response: Any, model: Any, model_admin: Any
    ) -> None:
        if not self.found(response, model):
            return
        shown = self.shown_columns(model_admin)
        for column in order_columns(response.context["cl"]):
            if column in ("pk", model._meta.pk.name) and not model._meta.pk.is_relation:
                continue
            try:
                field = model._meta.get_field(column)
            except Exception:  # an annotation or expression: not a column the row shows
                field = None
            if column not in shown or field is None or says_where(field):
                self.problems.append(f"{url} {query}: ordered by hidden {column}, masked rows in")


def test_leak_1_every_patient_admin_uses_the_masking_base():
    """LEAK-1: a new ModelAdmin of a model that leads to a patient cannot forget the masking."""
    found = patient_admins()
    assert len(found) >= 7
    for model, model_admin in found:
        assert isinstance(model_admin, MaskedRowsAdmin), model
        assert model_admin.patient_path in patient_paths(model), model


def test_leak_1_access_1_no_admin_list_filter_search_or_order_ties_a_masked_patient_to_a_place(
    client, world
):
    """LEAK-1, ACCESS-1: every admin list and filter, as every role, with a protected patient
    (and a relative linked to her) in the data and no grant: masked rows are found only through
    the columns they show, and show no unit, prescriber or free text."""
    walk = Walk(client, world)
    walked = 0
    for user in every_role():
        client.force_login(user)
        for model, model_admin in patient_admins():
            walk.run(model, model_admin)
            walked += 1
    assert walked >= 7 * 8
    assert walk.problems == []


def test_leak_1_the_walk_would_see_a_hidden_column_find_a_row(client, world):
    """The walk is not blind: for the grant holder the rows are visible, and the walk reports
    that a unit filter finds them and that their cells show the unit."""
    holder = get_user_model().objects.get(username=world["secrets"][1])
    holder.is_staff = True
    holder.save()
    client.force_login(holder)
    walk = Walk(client, world)
    walk.run(Prescription, admin.site._registry[Prescription])
    assert any("a hidden column finds a masked row" in p for p in walk.problems)
    assert any("shows" in p for p in walk.problems)


# Django's autocomplete on main pages an unordered patient list; the warning would hide the leak.
@pytest.mark.filterwarnings("ignore::django.core.paginator.UnorderedObjectListWarning")
def test_leak_1_autocomplete_answers_declared_fields_only(client, world):
    """LEAK-1: the admin's autocomplete answers only for a field its admin declares in
    ``autocomplete_fields`` (Django checks only the target's admin): never a map from patient
    ids to references, as every role."""
    problems = []
    for user in every_role():
        client.force_login(user)
        for model, model_admin in admin.site._registry.items():
            for field in model._meta.get_fields():
                if not (field.is_relation and field.concrete and field.related_model):
                    continue
                if field.related_model not in admin.site._registry:
                    continue
                query = urlencode(
                    {
                        "app_label": model._meta.app_label,
                        "model_name": model._meta.model_name,
                        "field_name": field.name,
                        "term": "",
                    }
                )
                response = client.get(f"/admin/autocomplete/?{query}")
                where = f"{user.username} {model._meta.label}.{field.name}"
                declared = field.name in model_admin.get_autocomplete_fields(None)
                if response.status_code == 200:
                    ids = {str(r["id"]) for r in response.json()["results"]}
                    masked = {str(pk) for pk in masked_pks(field.related_model, world["masked"])}
                    if not declared:
                        problems.append(f"{where}: answered for an undeclared field")
                    if ids & masked or world["reference"] in response.content.decode():
                        problems.append(f"{where}: names a masked patient")
                elif response.status_code not in (403, 404):
                    problems.append(f"{where}: answered {response.status_code}")
    assert problems == []


def test_leak_1_autocomplete_still_answers_a_declared_field(client, world):
    """The refusal is about the field: the agreement admin's declared supplier field answers."""
    SupplierFactory(name="Hjälpmedelsbolaget")
    client.force_login(UserFactory(username="walk-cat", role="customer_service", is_staff=True))
    query = "app_label=prescriptions&model_name=agreement&field_name=supplier&term=Hjälp"
    response = client.get(f"/admin/autocomplete/?{query}")
    assert response.status_code == 200
    assert response.json()["results"]


def test_access_1_admin_patient_list_holds_no_protected_person_for_roles_that_need_none(
    client, world
):
    """ACCESS-1 (issue 13, point 7): only a protection administrator's patient list holds
    protected patients (and patients linked to one), as masked rows with the birth year; for
    every other role and a superuser they are not in the list, not found by reference, and no
    count or filter tells of them."""
    masked = set(world["masked"])
    for user in every_role():
        client.force_login(user)
        response = client.get("/admin/patients/patient/")
        if response.status_code != 200:
            continue
        listed = {row.pk for row in response.context["cl"].result_list}
        role = user.groups.values_list("name", flat=True).first()
        assert world["visible"] in listed, user.username
        if role in LISTS_PROTECTED:
            assert masked <= listed
            continue
        assert not masked & listed, user.username
        searched = client.get("/admin/patients/patient/", {"q": world["reference"]})
        assert not masked & {row.pk for row in searched.context["cl"].result_list}
        assert world["reference"] not in response.content.decode()
        everyone = Patient.objects.exclude(pk__in=masked).count()
        assert response.context["cl"].full_result_count == everyone, user.username


def test_leak_1_no_admin_list_is_filtered_by_patient(client, world):
    """LEAK-1: ``?patient_id=``, ``?patient__id__exact=`` and the same through a prescription
    or an episode are refused outright (400), for a masked and a visible patient alike."""
    client.force_login(UserFactory(username="walk-root", is_staff=True, is_superuser=True))
    for model, _model_admin in patient_admins():
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for path in patient_paths(model):
            if path == "pk":
                continue
            for patient_id in (world["masked"][0], world["visible"]):
                for lookup in (f"{path}_id", f"{path}__id__exact", f"{path}__in"):
                    response = client.get(url, {lookup: patient_id})
                    assert response.status_code == 400, (url, lookup)


def test_access_1_a_masked_activity_is_not_found_by_its_unit_nor_shows_it(client, world):
    """ACCESS-1 (issue 13, point 3): customer service cannot learn where a masked patient is
    seen from the consultation activities: filtering by her unit or prescriber leaves her
    activity out while another patient's activity of the same unit stays, ordering by unit
    leaves it out, and the list and the change page show neither."""
    masked = ConsultationActivity.objects.get(patient_id=world["masked"][0])
    holder = masked.prescriber
    visible_reference = Patient.objects.get(pk=world["visible"]).reference
    same_unit = consultation_activity_create(
        ctx=ctx_for(holder), patient_reference=visible_reference
    )
    client.force_login(UserFactory(username="walk-cs", role="customer_service", is_staff=True))
    url = "/admin/prescriptions/consultationactivity/"

    def listed(query: dict[str, Any]) -> set[int]:
        response = client.get(url, query)
        assert response.status_code == 200
        return {row.pk for row in response.context["cl"].result_list}

    assert {masked.pk, same_unit.pk} <= listed({})
    for query in ({"unit": masked.unit_id}, {"prescriber__id__exact": holder.pk}, {"o": "1"}):
        found = listed(query)
        assert same_unit.pk in found, query
        assert masked.pk not in found, query
    unit_name = masked.unit.unit.name
    row = client.get(url).content.decode().split(f"/{masked.pk}/change/")[1].split("</tr>")[0]
    assert unit_name not in row
    assert holder.username not in row
    page = client.get(f"{url}{masked.pk}/change/").content.decode()
    assert unit_name not in page
    assert holder.username not in page
    assert unit_name in client.get(f"{url}{same_unit.pk}/change/").content.decode()


def test_access_1_access_log_filters_on_shown_columns_still_work(client, world):
    """The refusal of patient lookups does not catch a shown column whose name starts alike
    (``patient_protected``); a filter on it keeps masked entries, which show no user or unit."""
    client.force_login(UserFactory(username="walk-sa", role="protection_admin", is_staff=True))
    response = client.get("/admin/patients/accessentry/", {"patient_protected__exact": "1"})
    assert response.status_code == 200
    masked = masked_pks(AccessEntry, world["masked"])
    assert masked & {row.pk for row in response.context["cl"].result_list}


def test_leak_1_the_masking_adds_no_query_per_row(client, world):
    """The database's answer is one function call inside the list's own query: the prescription
    list costs as many queries with one more masked row and one more visible row."""
    client.force_login(UserFactory(username="walk-count", role="customer_service", is_staff=True))
    url = "/admin/prescriptions/prescription/"
    with CaptureQueriesContext(connection) as before:
        assert client.get(url).status_code == 200
    holder = get_user_model().objects.get(username=world["secrets"][1])
    draft_with(holder, Patient.objects.get(pk=world["masked"][0]), article("300"), stepped_up=True)
    draft_with(holder, Patient.objects.get(pk=world["visible"]), article("300"))
    with CaptureQueriesContext(connection) as after:
        assert client.get(url).status_code == 200
    assert len(after) == len(before)
