# The prescription's history takes the fields every history model shares
# (patients.transitions.TransitionRecord): the user who made a move is ``by``, as elsewhere.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("prescriptions", "0010_supply_registration_transition"),
    ]

    operations = [
        migrations.RenameField(
            model_name="prescriptiontransition", old_name="actor", new_name="by"
        ),
    ]
