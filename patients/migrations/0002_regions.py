"""The 21 regions and their county codes (LanKod): reference data every installation needs."""

from django.db import migrations

REGIONS = [
    ("01", "Region Stockholm", "AB"),
    ("03", "Region Uppsala", "C"),
    ("04", "Region Sörmland", "D"),
    ("05", "Region Östergötland", "E"),
    ("06", "Region Jönköpings län", "F"),
    ("07", "Region Kronoberg", "G"),
    ("08", "Region Kalmar län", "H"),
    ("09", "Region Gotland", "I"),
    ("10", "Region Blekinge", "K"),
    ("12", "Region Skåne", "M"),
    ("13", "Region Halland", "N"),
    ("14", "Västra Götalandsregionen", "O"),
    ("17", "Region Värmland", "S"),
    ("18", "Region Örebro län", "T"),
    ("19", "Region Västmanland", "U"),
    ("20", "Region Dalarna", "W"),
    ("21", "Region Gävleborg", "X"),
    ("22", "Region Västernorrland", "Y"),
    ("23", "Region Jämtland Härjedalen", "Z"),
    ("24", "Region Västerbotten", "AC"),
    ("25", "Region Norrbotten", "BD"),
]


def load(apps, schema_editor):
    Region = apps.get_model("patients", "Region")
    # Through the connection being migrated (the owner's), not the application's "default".
    regions = Region.objects.using(schema_editor.connection.alias)
    for code, name, letter in REGIONS:
        regions.update_or_create(
            county_code=code, defaults={"name": name, "county_letter": letter}
        )


class Migration(migrations.Migration):
    dependencies = [("patients", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
