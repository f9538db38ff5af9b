from django.db import migrations

# One partial GiST index per service kind over the open services' UTM points:
# the nearest-service refresh (schools.risk.nearest) runs one nearest-neighbour
# (KNN) scan per school and kind, and with these each scan reads only that
# kind's open services. On the whole-table index the scan has to step over the
# other kinds (for safe shelters, 2 % of services, about 50 rows a scan: 8x
# slower); a composite (kind, location_utm) index with btree_gist was 3-4x
# slower than these (docs/benchmarks.md, "Risk and nearest services").
#
# They are raw SQL, not model indexes: the queries name the kind and the status
# as literals so that the planner can match the partial predicates. A kind added
# to Service.Kind needs its index here too (without one its scan still works,
# on the whole-table index, only slower).
KINDS = (
    "ccwc",
    "wccc",
    "social_worker",
    "safe_shelter",
    "health_centre",
    "referral_hospital",
    "police_post",
    "psychosocial_support",
    "evacuation_centre",
)


def _create(kind: str) -> str:
    return (
        f"CREATE INDEX service_open_{kind}_utm ON schools_service "
        f"USING gist (location_utm) WHERE kind = '{kind}' AND status = 'open'"
    )


class Migration(migrations.Migration):
    """Partial GiST indexes for the nearest open service of each kind."""

    dependencies = [
        ("schools", "0008_risk_and_access"),
    ]

    operations = [
        migrations.RunSQL(
            _create(kind), f"DROP INDEX IF EXISTS service_open_{kind}_utm"
        )
        for kind in KINDS
    ]
