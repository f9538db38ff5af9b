"""The table of the `public` cache (anonymous answers shared by every process)."""

from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("preparedness", "0004_cache_table")]

    operations = [migrations.RunPython(create_cache_tables, migrations.RunPython.noop)]
