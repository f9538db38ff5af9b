"""The spatial SQL of feature exports: GeoJSON features built by PostGIS.

Each feature is one `json_build_object(...)::text` computed by the database on
the rows of the collection's own filtered QuerySet (the one the API lists), so
nothing goes GEOS -> GDAL -> dict -> JSON in Python, and rows stream from a
server-side cursor (`QuerySet.iterator()` opens a named cursor on PostgreSQL):
100,000 schools keep the server's memory flat.

RFC 7946: WGS84 longitude/latitude (every geometry here is EPSG:4326), no `crs`
member, exterior rings counter-clockwise (`ST_ForcePolygonCCW`), at most 6
decimals (`ST_AsGeoJSON(geom, 6)`), UTF-8 text as stored (Khmer intact).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from itertools import islice
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Expression, F, FloatField, Func, QuerySet, TextField
from django.db.models.sql.compiler import SQLCompiler

CHUNK = 2000  # rows per fetch from the server-side cursor
FEATURES_PER_WRITE = 500  # features joined into one piece of the response


@contextmanager
def lean_reads(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """A transaction on the database `using` whose statements run without JIT
    compilation or parallel workers: for the small reads of a tile or a page of
    features (a few thousand rows), whose PostGIS and JSON costs would
    otherwise start both, each costing more than the query (a 1,000-school OGC
    page: 60 ms with a parallel hash join, 35 ms without; a tile: 40-90 ms of
    JIT). Serving many clients at once, one process per query is also what
    keeps the cores free. Give the read replica's alias (`queryset.db`) to keep
    the reads there (preparedness/dbrouter.py).
    """
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield


def _literal(key: str) -> str:
    """A JSON key as an SQL string literal (keys are our own column names)."""
    if not key.replace("_", "").isalnum():
        raise ValueError(f"not a plain key: {key!r}")
    return f"'{key}'"


class JSONBuildObject(Func):
    """`json_build_object('k1', e1, 'k2', e2, ...)`: keys in the given order
    (jsonb would reorder them). At most 50 keys (PostgreSQL's 100 arguments)."""

    output_field = TextField()

    def __init__(self, fields: Mapping[str, Any]) -> None:
        if len(fields) > 50:
            raise ValueError("json_build_object takes at most 50 keys")
        self.keys = list(fields)
        super().__init__(*fields.values())

    def as_sql(
        self,
        compiler: SQLCompiler,
        connection: Any,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> tuple[str, list[Any]]:
        parts: list[str] = []
        params: list[Any] = []
        for key, expression in zip(
            self.keys, self.get_source_expressions(), strict=True
        ):
            sql, sql_params = compiler.compile(expression)
            parts.append(f"{_literal(key)}, {sql}")
            params.extend(sql_params)
        return f"json_build_object({', '.join(parts)})", params


class AsGeoJSONGeometry(Func):
    """The geometry as a JSON value: RFC 7946 winding, 6 decimals, no crs."""

    template = "ST_AsGeoJSON(ST_ForcePolygonCCW(%(expressions)s), 6, 0)::json"
    output_field = TextField()


class RoundTo(Func):
    """`round(x::numeric, digits)` (PostgreSQL has no round(double, int))."""

    template = "round((%(expressions)s)::numeric, %(digits)d)"
    output_field = FloatField()

    def __init__(self, expression: Any, digits: int) -> None:
        super().__init__(expression, digits=int(digits))


class JoinedArray(Func):
    """A jsonb array of strings joined with `;` (for CSV cells)."""

    template = (
        "array_to_string(ARRAY(SELECT jsonb_array_elements_text(%(expressions)s)), ';')"
    )
    output_field = TextField()


class PointX(Func):
    """Longitude of a representative point (the point itself, or a point on
    the surface of a polygon), 6 decimals."""

    template = "round(ST_X(ST_PointOnSurface(%(expressions)s))::numeric, 6)"
    output_field = FloatField()


class PointY(Func):
    template = "round(ST_Y(ST_PointOnSurface(%(expressions)s))::numeric, 6)"
    output_field = FloatField()


class FeatureText(Func):
    """One GeoJSON Feature as text: `{"type": "Feature", "id", "geometry",
    "properties"}`."""

    output_field = TextField()

    def __init__(
        self, *, id: Any, geometry: Any, properties: Mapping[str, Any]
    ) -> None:
        super().__init__(
            JSONBuildObject(
                {
                    "type": _Raw("'Feature'"),
                    "id": id,
                    "geometry": AsGeoJSONGeometry(geometry),
                    "properties": JSONBuildObject(properties),
                }
            )
        )

    template = "(%(expressions)s)::text"


class _Raw(Expression):
    """A fixed SQL fragment of our own (never user input)."""

    output_field = TextField()

    def __init__(self, sql: str) -> None:
        super().__init__()
        self.sql = sql

    def as_sql(self, compiler: SQLCompiler, connection: Any) -> tuple[str, list[Any]]:
        return self.sql, []


def feature_texts(
    queryset: QuerySet[Any],
    *,
    id: Any,
    geometry: str,
    properties: Mapping[str, Any],
) -> QuerySet[Any]:
    """The rows of `queryset` (its filters and order) as GeoJSON Feature texts:
    a flat values list to slice (pages) or stream with `.iterator()`."""
    feature = FeatureText(id=id, geometry=F(geometry), properties=properties)
    return queryset.annotate(_feature=feature).values_list("_feature", flat=True)


def stream_texts(texts: QuerySet[Any]) -> Iterator[str]:
    """Feature texts from a server-side cursor."""
    return texts.iterator(chunk_size=CHUNK)


def feature_collection_chunks(
    features: Iterable[str], members: Mapping[str, Any] | None = None
) -> Iterator[bytes]:
    """A FeatureCollection written piece by piece (UTF-8), features first; the
    extra top-level `members` (already JSON-encodable text values) after them."""
    yield b'{"type":"FeatureCollection","features":[\n'
    iterator = iter(features)
    first = True
    while batch := list(islice(iterator, FEATURES_PER_WRITE)):
        text = ",\n".join(batch)
        yield (text if first else ",\n" + text).encode()
        first = False
    tail = "".join(f',"{key}":{value}' for key, value in (members or {}).items())
    yield f"\n]{tail}}}\n".encode()


def flat_rows(
    queryset: QuerySet[Any], columns: Mapping[str, Any]
) -> Iterator[tuple[Any, ...]]:
    """The rows of `queryset` as tuples of `columns` (name -> expression), from a
    server-side cursor."""
    names = [f"_c{i}" for i in range(len(columns))]
    annotated = queryset.annotate(**dict(zip(names, columns.values(), strict=True)))
    return annotated.values_list(*names).iterator(chunk_size=CHUNK)
