"""The data version: a number that grows with every committed change to SalaSafe's data.

Every table of the apps in `SALASAFE_DATA_APPS` (schools, services, exposures,
scores, checklists, plans, hazard layers, areas, roles...) carries one
statement-level trigger, `salasafe_data_changed`, that appends a row of weight 1
to `salasafe_data_change` in the writing transaction. The version is the sum of
the weights: it moves when, and only when, such a transaction commits (a rolled
back write takes its row with it), whatever wrote the data: a view, a command,
a migration or SQL typed by an operator. The public cache (`public_cache`) puts
it in every key, so an answer kept before a change is never served after it.
The version also names its log (the table's identity), so a database restored
from a backup, whose count starts again from the backup's, never matches an
answer kept before the restore.

Readers run no lock: writers only insert, so they never wait for one another,
and the sum is read in one statement. A reader that finds many rows folds them
into one row carrying their summed weight (one statement: the sum is unchanged
for everyone at every instant, and two folds at once each fold only rows they
could lock).

Why reading the version before the data is enough: under READ COMMITTED each
later statement sees at least every transaction the version counted, so an
answer stored under version v holds v's data or newer. An answer holding newer
data under an older key is harmless: by the time anyone reads a newer version,
that key is no longer asked for. (The opposite, the version newer than the
data, is what a counter bumped outside the writing transaction would risk.)

The triggers are attached after every `migrate` (`attach_triggers`, connected
to `post_migrate` in PreparednessConfig.ready), so a new model's table is
covered without anyone remembering to.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from django.apps import apps
from django.conf import settings
from django.db import connections, router, transaction

from preparedness.models import DataChange

TRIGGER = "salasafe_data_changed"
FUNCTION = "salasafe_data_changed"
# Fold the change rows into one when a reader finds more than this many.
FOLD_AT = 100


class Version(NamedTuple):
    """The data version: which change log (its table's identity, new after a
    restore or in a new database, where the count starts again) and how many
    changes it has counted."""

    log: int
    changes: int

    def __str__(self) -> str:
        return f"{self.log}.{self.changes}"


def data_version() -> Version:
    """The current data version, read where the request reads its data (the
    replica, when it is routed there)."""
    table = DataChange._meta.db_table
    # Plain SQL: the ORM's aggregate took longer to compile (1-2 ms) than to run,
    # on every cached answer.
    with connections[router.db_for_read(DataChange)].cursor() as cursor:
        cursor.execute(
            f"SELECT '{table}'::regclass::oid::int8, coalesce(sum(weight), 0), "
            f"count(*) FROM {table}"
        )
        log, total, rows = cursor.fetchone()
    if rows > FOLD_AT:
        fold()
    return Version(log=int(log), changes=int(total))


def fold() -> None:
    """Replace the change rows by one row of their summed weight."""
    table = DataChange._meta.db_table
    alias = router.db_for_write(DataChange)
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        cursor.execute(
            f"WITH gone AS (DELETE FROM {table} RETURNING weight) "
            f"INSERT INTO {table} (weight) "
            "SELECT sum(weight) FROM gone HAVING count(*) > 0"
        )


def data_tables() -> list[str]:
    """The tables whose changes move the version: every model table (many-to-many
    ones included) of the apps in `SALASAFE_DATA_APPS`, but the change log's."""
    tables = {
        model._meta.db_table
        for label in settings.SALASAFE_DATA_APPS
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
        if model is not DataChange and not model._meta.proxy and model._meta.managed
    }
    return sorted(tables)


def attach_triggers(*, using: str, **_: Any) -> None:
    """Give every data table its trigger (a `post_migrate` receiver; idempotent,
    and a no-op when every table already has it)."""
    connection = connections[using]
    tables = data_tables()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = %s AND c.relname = ANY(%s)",
            [TRIGGER, tables],
        )
        have = {name for (name,) in cursor.fetchall()}
        missing = [table for table in tables if table not in have]
        if not missing:
            return
        existing = set(connection.introspection.table_names(cursor))
        if DataChange._meta.db_table not in existing:
            return  # migrated back before the change log (and its function)
        with transaction.atomic(using=using):
            for table in missing:
                if table not in existing:
                    continue  # a model whose migration has not run here
                name = connection.ops.quote_name(table)
                cursor.execute(
                    f"CREATE TRIGGER {TRIGGER} "
                    f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {name} "
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
                )
