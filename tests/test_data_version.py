"""The data version moves with every committed change to SalaSafe's data, however
it is written, and only then; folding its change rows keeps it."""

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection, transaction

from maps.models import AreaOfInterest
from preparedness.data_version import FOLD_AT, TRIGGER, data_tables, data_version
from preparedness.models import DataChange
from schools.models import School
from tests.factories import make_school

pytestmark = pytest.mark.django_db


def test_every_data_table_has_the_trigger():
    """Every table of the data apps, many-to-many ones included, moves it (so a
    new model is covered without anyone remembering to)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = %s",
            [TRIGGER],
        )
        triggered = {name for (name,) in cursor.fetchall()}
    expected = {
        model._meta.db_table
        for label in settings.SALASAFE_DATA_APPS
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    } - {DataChange._meta.db_table}
    assert {"schools_school", "plans_action_schools", "maps_areaofinterest"} <= expected
    assert set(data_tables()) == expected
    assert triggered == expected


def test_a_committed_write_moves_it_and_a_rolled_back_one_does_not(geography):
    before = data_version().changes
    school = make_school("SCH-1")
    after_insert = data_version().changes
    assert after_insert > before

    with transaction.atomic():
        School.objects.filter(pk=school.pk).update(name_en="Renamed")
        transaction.set_rollback(True)
    assert data_version().changes == after_insert

    with connection.cursor() as cursor:  # SQL typed by an operator counts too
        cursor.execute(
            "UPDATE schools_school SET name_km = 'សាលា' WHERE id = %s", [school.pk]
        )
    after_sql = data_version().changes
    assert after_sql > after_insert

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE maps_areaofinterest")
    assert data_version().changes > after_sql


def test_reads_do_not_move_it(geography):
    make_school("SCH-1")
    before = data_version().changes
    list(School.objects.all())
    AreaOfInterest.objects.count()
    assert data_version().changes == before


def test_folding_the_change_rows_keeps_the_version(geography):
    school = make_school("SCH-1")
    for n in range(FOLD_AT + 5):
        School.objects.filter(pk=school.pk).update(enrolment_girls=n)
    assert DataChange.objects.count() > FOLD_AT
    total = sum(DataChange.objects.values_list("weight", flat=True))

    version = data_version().changes  # folds

    assert DataChange.objects.count() == 1
    assert DataChange.objects.get().weight == total
    assert data_version().changes == version == total
    School.objects.filter(pk=school.pk).update(enrolment_girls=1)
    assert data_version().changes == version + 1


def test_a_restored_change_log_is_a_new_version(geography):
    """A database restored from a backup counts again from the backup's count: its
    log is a new table, so no version from before the restore comes back."""
    make_school("SCH-1")
    before = data_version()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE restored (LIKE salasafe_data_change INCLUDING ALL);"
            "DROP TABLE salasafe_data_change;"
            "ALTER TABLE restored RENAME TO salasafe_data_change"
        )

    after = data_version()

    assert after.log != before.log and str(after) != str(before)
    assert after.changes == 0
