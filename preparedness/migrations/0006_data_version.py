"""The data version's change log and the trigger function every data table calls
(preparedness.data_version; the triggers are attached after each migrate)."""

from django.db import migrations, models

FUNCTION = """
CREATE OR REPLACE FUNCTION salasafe_data_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO salasafe_data_change (weight) VALUES (1);
    RETURN NULL;
END
$$
"""


class Migration(migrations.Migration):
    dependencies = [("preparedness", "0005_public_cache_table")]

    operations = [
        migrations.CreateModel(
            name="DataChange",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("weight", models.BigIntegerField(default=1)),
            ],
            options={"db_table": "salasafe_data_change"},
        ),
        migrations.RunSQL(
            FUNCTION, "DROP FUNCTION IF EXISTS salasafe_data_changed() CASCADE"
        ),
    ]
