import django.db.models.deletion
from django.db import migrations, models

# The exposure rows of deleted places and layers, removed by the database itself.
#
# The foreign keys from schools_exposure to its layer, school and service are
# dropped (db_constraint=False): PostgreSQL checked each of them once per
# inserted row at commit (one query per row and key, and a FOR KEY SHARE lock on
# each school), 3.5-4 s of a first recompute at 100,000 schools
# (docs/adr/0006-exposure-without-foreign-keys.md). Django still cascades
# `delete()`; these triggers cover deletes by SQL. They run once per statement,
# never per exposure row inserted: each AFTER DELETE trigger gets the deleted
# rows as a transition table (`gone`) and deletes their exposures in one
# statement; each AFTER TRUNCATE trigger (TRUNCATE fires no DELETE triggers and
# has no transition tables) deletes the exposures of every place of that kind.
# pg_dump writes the triggers after the data, so a restore does not fire them.

# (table whose deletes cascade, exposure column pointing at it, name part)
CASCADES = (
    ("hazards_hazardlayer", "layer_id", "layers"),
    ("schools_school", "school_id", "schools"),
    ("schools_service", "service_id", "services"),
)


def _function(column: str, what: str) -> str:
    # After a TRUNCATE of the places, every exposure of that kind goes (every
    # row has a layer, so a truncated layer table takes all of them).
    return f"""
        CREATE FUNCTION exposure_forget_{what}() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                DELETE FROM schools_exposure WHERE {column} IS NOT NULL;
            ELSE
                DELETE FROM schools_exposure e USING gone
                WHERE e.{column} = gone.id AND e.{column} IS NOT NULL;
            END IF;
            RETURN NULL;
        END
        $$
    """


def _create(table: str, column: str, what: str) -> str:
    return f"""
        {_function(column, what)};
        CREATE TRIGGER exposure_forget_deleted_{what}
            AFTER DELETE ON {table} REFERENCING OLD TABLE AS gone
            FOR EACH STATEMENT EXECUTE FUNCTION exposure_forget_{what}();
        CREATE TRIGGER exposure_forget_truncated_{what}
            AFTER TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION exposure_forget_{what}();
    """


def _drop(table: str, what: str) -> str:
    return f"""
        DROP TRIGGER IF EXISTS exposure_forget_deleted_{what} ON {table};
        DROP TRIGGER IF EXISTS exposure_forget_truncated_{what} ON {table};
        DROP FUNCTION IF EXISTS exposure_forget_{what}();
    """


class Migration(migrations.Migration):
    """Exposure rows without foreign-key constraints; delete triggers instead."""

    dependencies = [
        ("hazards", "0002_stormtrack_layer_path_utm"),
        ("schools", "0009_nearest_service_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="exposure",
            name="layer",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="hazards.hazardlayer",
                verbose_name="layer",
            ),
        ),
        migrations.AlterField(
            model_name="exposure",
            name="school",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="exposures",
                to="schools.school",
            ),
        ),
        migrations.AlterField(
            model_name="exposure",
            name="service",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="exposures",
                to="schools.service",
            ),
        ),
        *(
            migrations.RunSQL(_create(table, column, what), _drop(table, what))
            for table, column, what in CASCADES
        ),
    ]
