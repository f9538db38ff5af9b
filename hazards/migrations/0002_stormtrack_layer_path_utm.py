from django.contrib.postgres.indexes import GistIndex
from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations


class Migration(migrations.Migration):
    """A GiST index on (layer_id, path_utm) for the nearest segment of one layer."""

    dependencies = [
        ("hazards", "0001_initial"),
    ]

    operations = [
        BtreeGistExtension(),
        migrations.AddIndex(
            model_name="stormtrack",
            index=GistIndex(
                fields=["layer", "path_utm"], name="stormtrack_layer_path_utm"
            ),
        ),
    ]
