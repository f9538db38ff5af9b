"""The national demo dataset: a registry of steps that each app adds to.

`manage.py load_demo` runs the registered steps in order. Apps register their
steps in `AppConfig.ready()`, so the core never imports the apps above it.
Everything is seeded: the same command gives the same data.
"""

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class DemoOptions:
    """Sizes and switches for one demo load."""

    seed: int = 2026
    schools: int = 13_000
    services: int = 3_500
    admin_areas: bool = True
    log: Callable[[str], None] = print
    summary: list[str] = field(default_factory=list)

    def rng(self, salt: int) -> np.random.Generator:
        """A generator seeded from the demo seed and a per-step salt."""
        return np.random.default_rng([self.seed, salt])


@dataclass(frozen=True)
class DemoStep:
    """One part of the demo, e.g. 'schools'; lower `order` runs first."""

    name: str
    order: int
    run: Callable[[DemoOptions], str]
    loaded: Callable[[], bool] | None = None  # does the database already hold it?


_STEPS: dict[str, DemoStep] = {}


def register_demo_step(step: DemoStep) -> None:
    """Add (or replace, by name) a demo step; called from AppConfig.ready()."""
    _STEPS[step.name] = step


def demo_steps() -> list[DemoStep]:
    return sorted(_STEPS.values(), key=lambda s: (s.order, s.name))


def demo_loaded() -> bool:
    """Whether every step that can tell says its data is already there."""
    return all(step.loaded() for step in demo_steps() if step.loaded is not None)


# --- A sketch of Cambodia's water, for placing demo data -----------------------
# Polylines (lon, lat) traced roughly from the map; good enough to make demo
# schools denser along the rivers and the lake, and to draw demo flood zones.
MEKONG = [
    (105.95, 13.93),
    (105.97, 13.52),
    (106.03, 13.0),
    (106.02, 12.49),
    (105.96, 12.25),
    (105.65, 12.08),
    (105.46, 11.99),
    (105.2, 11.8),
    (104.93, 11.57),
    (105.05, 11.45),
    (105.28, 11.26),
    (105.2, 10.93),
]
BASSAC = [(104.93, 11.57), (104.98, 11.35), (105.0, 11.15), (105.05, 10.92)]
TONLE_SAP_RIVER = [(104.93, 11.57), (104.8, 11.85), (104.67, 12.25), (104.45, 12.5)]
TONLE_SAP_LAKE = [(103.7, 13.3), (103.95, 13.05), (104.2, 12.8), (104.45, 12.5)]
PHNOM_PENH = (104.92, 11.56)
WATERWAYS = {
    "Mekong": MEKONG,
    "Bassac": BASSAC,
    "Tonle Sap river": TONLE_SAP_RIVER,
    "Tonle Sap lake": TONLE_SAP_LAKE,
}

_KM_PER_DEGREE = 111.32


def distance_to_polyline_km(
    lon: np.ndarray, lat: np.ndarray, line: list[tuple[float, float]]
) -> np.ndarray:
    """Approximate distance (km) from points to a polyline, vectorised.

    Planar on a local equirectangular projection around 12 N: within 1 % over
    Cambodia, which is plenty for weighting demo data (not for analysis).
    """
    kx = _KM_PER_DEGREE * math.cos(math.radians(12.0))
    px, py = lon * kx, lat * _KM_PER_DEGREE
    best = np.full(px.shape, np.inf)
    for (x0, y0), (x1, y1) in itertools.pairwise(line):
        ax, ay, bx, by = x0 * kx, y0 * _KM_PER_DEGREE, x1 * kx, y1 * _KM_PER_DEGREE
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        t = (
            np.clip(((px - ax) * dx + (py - ay) * dy) / length2, 0.0, 1.0)
            if length2 > 0
            else np.zeros_like(px)
        )
        best = np.minimum(best, np.hypot(px - (ax + t * dx), py - (ay + t * dy)))
    return best


def population_weight(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Relative school density: higher near Phnom Penh, the Mekong, the Tonle Sap."""
    d_city = distance_to_polyline_km(lon, lat, [PHNOM_PENH, PHNOM_PENH])
    d_river = np.minimum.reduce(
        [
            distance_to_polyline_km(lon, lat, line)
            for line in (MEKONG, BASSAC, TONLE_SAP_RIVER)
        ]
    )
    d_lake = distance_to_polyline_km(lon, lat, TONLE_SAP_LAKE)
    return (
        1.0
        + 3.0 * np.exp(-d_city / 25.0)
        + 1.5 * np.exp(-d_river / 15.0)
        + 1.0 * np.exp(-d_lake / 20.0)
    )


# --- The core's own steps -------------------------------------------------------
ORGANIZATIONS = [
    # name, acronym, kind, Forum member
    ("Ministry of Education, Youth and Sport", "MoEYS", "government", False),
    ("National Committee for Disaster Management", "NCDM", "government", False),
    (
        "Ministry of Social Affairs, Veterans and Youth Rehabilitation",
        "MoSVY",
        "government",
        False,
    ),
    ("UN Resident Coordinator's Office", "RCO", "un_agency", True),
    ("UNICEF Cambodia", "UNICEF", "un_agency", True),
    ("World Food Programme", "WFP", "un_agency", True),
    ("Save the Children", "SCI", "ngo", True),
    ("Plan International Cambodia", "Plan", "ngo", True),
    ("World Vision Cambodia", "WVC", "ngo", True),
    ("People in Need", "PIN", "ngo", True),
    ("ChildFund Cambodia", "ChildFund", "ngo", True),
    ("Cambodian Red Cross", "CRC", "red_cross", True),
]

# username, role, organization acronym, areas, first name
DEMO_USERS = [
    ("coordinator", "coordinator", "SCI", [], "Sophea"),
    ("official_07", "education_official", "MoEYS", ["07"], "Dara"),
    ("planner", "planner", "UNICEF", [], "Chenda"),
    ("admin", "administrator", "SCI", [], "Vannak"),
]


def demo_admin_areas(options: DemoOptions) -> str:
    """Provinces, districts and communes with boundaries, from the national sources."""
    from django.core.management import call_command

    from preparedness.models import AdminArea

    if not options.admin_areas:
        return f"kept {AdminArea.objects.count()} existing administrative areas"
    call_command("load_admin_areas", verbosity=0)
    return f"{AdminArea.objects.count()} administrative areas"


def demo_people(options: DemoOptions) -> str:
    """Forum organizations and one login per role."""
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from preparedness.models import AdminArea, Membership, Organization

    orgs = {}
    for name, acronym, kind, member in ORGANIZATIONS:
        orgs[acronym], _ = Organization.objects.update_or_create(
            name=name,
            defaults={"acronym": acronym, "kind": kind, "forum_member": member},
        )
    User = get_user_model()
    for username, role, acronym, areas, first_name in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username)
        user.first_name = first_name
        user.email = f"{username}@salasafe.invalid"
        user.is_staff = role == "administrator"
        user.is_superuser = role == "administrator"
        user.set_password(settings.DEMO_PASSWORD)
        user.save()
        membership, _ = Membership.objects.update_or_create(
            user=user, defaults={"role": role, "organization": orgs[acronym]}
        )
        membership.areas.set(AdminArea.objects.filter(code__in=areas))
    return f"{len(orgs)} organizations, {len(DEMO_USERS)} demo logins"


def demo_logins_text() -> str:
    """The demo logins, one per role, as printed by `make demo`."""
    from django.conf import settings

    lines = [f"Demo logins (password: {settings.DEMO_PASSWORD}):"]
    for username, role, acronym, areas, _ in DEMO_USERS:
        scope = f", areas {', '.join(areas)}" if areas else ""
        lines.append(f"  {username:<12} {role} ({acronym}{scope})")
    return "\n".join(lines)


register_demo_step(DemoStep("admin areas", 10, demo_admin_areas))
register_demo_step(DemoStep("organizations and logins", 20, demo_people))


def random_points_in_communes(
    counts: dict[str, int], seed: int
) -> list[tuple[str, float, float]]:
    """`counts[code]` seeded random points inside each commune, as (code, lon, lat).

    Points fall inside the commune boundary (PostGIS ST_GeneratePoints); a
    commune without a boundary gets points within about 1 km of its gazetteer
    centroid; a commune with neither gets none.
    """
    from django.db import connection

    codes = sorted(c for c, n in counts.items() if n > 0)
    ns = [counts[c] for c in codes]
    sql = """
        WITH wanted AS (
            SELECT code, n, row_number() OVER (ORDER BY code) AS k
            FROM unnest(%s::text[], %s::int[]) AS w(code, n)
        )
        SELECT a.code, ST_X(d.geom), ST_Y(d.geom)
        FROM wanted w
        JOIN preparedness_adminarea a ON a.code = w.code AND a.boundary IS NOT NULL
        CROSS JOIN LATERAL ST_Dump(
            ST_GeneratePoints(a.boundary, w.n, (%s + w.k * 7919)::int)
        ) AS d
        UNION ALL
        SELECT a.code,
               ST_X(a.centroid) + (random_x - 0.5) * 0.02,
               ST_Y(a.centroid) + (random_y - 0.5) * 0.02
        FROM wanted w
        JOIN preparedness_adminarea a
          ON a.code = w.code AND a.boundary IS NULL AND a.centroid IS NOT NULL
        CROSS JOIN LATERAL (
            SELECT (hashtext(w.code || ':' || i || ':x') & 65535) / 65535.0 AS random_x,
                   (hashtext(w.code || ':' || i || ':y') & 65535) / 65535.0 AS random_y
            FROM generate_series(1, w.n) AS i
        ) AS r
        ORDER BY 1, 2, 3
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [codes, ns, seed % 1_000_000 + 1])
        return [(code, float(x), float(y)) for code, x, y in cursor.fetchall()]
