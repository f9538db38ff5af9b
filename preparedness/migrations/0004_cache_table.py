"""The database cache table (sign-in failure counts shared by every process)."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("preparedness", "0003_audit_entries")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
