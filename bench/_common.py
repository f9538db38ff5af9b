"""What the benchmarks share: Django on a scratch database, SQL, the environment line.

`setup_django(name)` points the default connection at the scratch database
`name` on the server of DATABASE_URL (created, migrated and given the national
admin areas if needed) before it is opened, as Django's test runner does; the
dev database is never touched. Query logging is switched off afterwards, as in
production.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def setup_django(name: str) -> None:
    """Start Django on the scratch database `name`; create and fill it if needed."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "preparedness.settings")
    import django
    from django.conf import settings

    django.setup()
    from django.db import connection

    base = dict(connection.settings_dict)
    if base["NAME"] != name:
        settings.DATABASES["default"]["NAME"] = name
        connection.close()
        connection.settings_dict["NAME"] = name
    create_database(base, name)
    assert sql("SELECT current_database()")[0][0] == name, "not on the scratch database"

    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from preparedness.models import AdminArea

    communes = AdminArea.objects.filter(
        level=AdminArea.Level.COMMUNE, boundary__isnull=False
    )
    if not communes.exists():
        print(f"loading admin areas into {name} ...")
        call_command("load_admin_areas", verbosity=0)
    settings.DEBUG = False


def create_database(settings_dict: dict[str, Any], name: str) -> None:
    import psycopg
    from psycopg import sql as pgsql

    with psycopg.connect(autocommit=True, **pg_params(settings_dict, "postgres")) as c:
        found = c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not found.fetchone():
            c.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name)))
            print(f"created database {name}")


def pg_params(settings_dict: dict[str, Any], dbname: str) -> dict[str, str]:
    keys = {"HOST": "host", "PORT": "port", "USER": "user", "PASSWORD": "password"}
    params = {v: str(settings_dict[k]) for k, v in keys.items() if settings_dict.get(k)}
    return {**params, "dbname": dbname}


def sql(statement: str, params: Any = None) -> list[tuple[Any, ...]]:
    """Run one statement on the default connection; its rows, if any."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def environment() -> str:
    """One line: cores, Python, PostgreSQL, PostGIS, GDAL, database."""
    from django.contrib.gis.gdal import gdal_full_version
    from django.db import connection

    pg, gis = sql("SELECT version(), postgis_lib_version()")[0]
    return (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{pg.split(' on ')[0]}, PostGIS {gis}, {gdal_full_version().decode()}, "
        f"database {connection.settings_dict['NAME']}"
    )


def best_of(repeat: int, run: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of `repeat` runs of `run` (seconds) and that run's result."""
    best: tuple[float, Any] | None = None
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        result = run()
        spent = time.perf_counter() - started
        if best is None or spent < best[0]:
            best = (spent, result)
    assert best is not None
    return best


@contextmanager
def stopwatch(label: str) -> Iterator[None]:
    """Print how long the block took."""
    started = time.perf_counter()
    yield
    print(f"{label} in {time.perf_counter() - started:.1f} s", flush=True)
