"""SalaSafe settings, read from environment variables.

Safe for production by default (DEBUG off, SECRET_KEY required, strict hosts);
`make demo` relaxes them by setting SALASAFE_DEMO=1 and DEBUG=1.
"""

import os
from pathlib import Path
from urllib.parse import quote

import dj_database_url
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [
        item.strip()
        for item in os.environ.get(name, default).split(",")
        if item.strip()
    ]


DEBUG = env_bool("DEBUG")
DEMO = env_bool("SALASAFE_DEMO")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or DEMO):
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for development).")
    SECRET_KEY = "insecure-development-key-not-for-production"

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG or DEMO else ""
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# The project-local PostGIS cluster that the Makefile creates under var/pg
# listens only on a Unix socket in var/pg/run.
LOCAL_PG_SOCKET_DIR = BASE_DIR / "var" / "pg" / "run"
LOCAL_PG_PORT = os.environ.get("SALASAFE_PG_PORT", "54329")
_SOCKET = quote(str(LOCAL_PG_SOCKET_DIR), safe="")
LOCAL_DATABASE_URL = f"postgis://salasafe@{_SOCKET}:{LOCAL_PG_PORT}/salasafe"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or LOCAL_DATABASE_URL,
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        engine="django.contrib.gis.db.backends.postgis",
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_gis",
    "leaflet",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "preparedness",
    "hazards",
    "schools",
    "plans",
    "maps",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # before WhiteNoise: static files get it too
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "preparedness.public_cache.PublicCacheMiddleware",  # keeps the gzipped body
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Content security policy on every response (django-csp 4): scripts and
# stylesheets only from SalaSafe itself, plus the inline <script>/<style>
# blocks that carry this request's nonce (`request.csp_nonce`: folium's map
# script via maps/render.py, the Swagger UI page, the print and province
# pages). Style *attributes* stay allowed (style-src-attr): Leaflet, folium's
# tooltips and our popups and legends colour elements with them, and CSS in an
# attribute cannot run code. The base map's tiles come from
# tile.openstreetmap.org; Leaflet's icons are data: URLs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:", "https://tile.openstreetmap.org"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

ROOT_URLCONF = "preparedness.urls"
WSGI_APPLICATION = "preparedness.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "preparedness" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "preparedness.context_processors.access",
            ],
        },
    }
]

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Languages: English and Khmer. Deadlines turn overdue at local midnight.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("km", _("Khmer"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Phnom_Penh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "static"))
# Leaflet and its plugins for the risk map, pinned in package-lock.json and
# installed by `make setup` (npm ci): served as /static/vendor/<package>/...
STATICFILES_DIRS = [("vendor", BASE_DIR / "node_modules")]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))

# Open data read at run time from ../shared/data (never copied into the repo);
# `make demo` downloads the public boundary files into var/data when it is absent.
SHARED_DATA_DIR = Path(
    os.environ.get("SALASAFE_SHARED_DATA", BASE_DIR.parent / "shared" / "data")
)
DOWNLOADED_DATA_DIR = BASE_DIR / "var" / "data"

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG or DEMO
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "salasafe@localhost")

if not DEBUG:
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
# HTTPS only, outside DEBUG: secure cookies, redirect to https, HSTS. `make
# serve` on loopback, where there is no TLS, sets SALASAFE_HTTPS=0.
HTTPS = env_bool("SALASAFE_HTTPS", not DEBUG)
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
# Behind a reverse proxy that terminates TLS and sets X-Forwarded-Proto.
if env_bool("SALASAFE_BEHIND_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# GDAL 3.6 (Debian 12) cannot block file and network access from spatial
# reference definitions; SalaSafe never takes a CRS definition from users, only
# EPSG codes checked against spatial_ref_sys (docs/adr/0005-https-settings.md).
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

# Shared by every app server process: sessions (Django's default, the database)
# and this cache (sign-in failure counts), so several servers can run behind a
# load balancer. The table is created by migration preparedness 0004.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "salasafe_cache",
    },
    # Answers to reads, kept a few seconds for every process and server
    # (preparedness/public_cache.py; migration preparedness 0005); bounded in
    # entries and in body size.
    "public": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "salasafe_public_cache",
        "OPTIONS": {"MAX_ENTRIES": 3000},
    },
    # The same answers (up to 512 KB each) in each process's memory, in front
    # of the table: at most 256 x 512 KB = 128 MB a process.
    "public_local": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "salasafe-public",
        "OPTIONS": {"MAX_ENTRIES": 256},
    },
}
# Anonymous reads of these paths are answered from the `public` cache, kept up
# to this many seconds (0 turns it off). The key holds the data version
# (preparedness/data_version.py), so a change to the data is seen at once; the
# limit bounds answers that depend on the clock (e.g. actions overdue today).
SALASAFE_PUBLIC_CACHE_SECONDS = int(
    os.environ.get("SALASAFE_PUBLIC_CACHE_SECONDS", "60")
)
SALASAFE_PUBLIC_CACHE_PREFIXES = env_list(
    "SALASAFE_PUBLIC_CACHE_PREFIXES", "/tiles/,/ogc/,/api/,/map/image."
)
# Signed-in reads of these paths (a subset of the above) are cached too, per
# role and areas: there, what a reader sees depends on nothing else about them.
SALASAFE_SIGNED_IN_CACHE_PREFIXES = env_list(
    "SALASAFE_SIGNED_IN_CACHE_PREFIXES", "/tiles/,/ogc/"
)
# The apps whose tables move the data version (each gets a trigger).
SALASAFE_DATA_APPS = ["preparedness", "hazards", "schools", "plans", "maps"]
SALASAFE_PUBLIC_CACHE_MAX_BYTES = 4 * 1024 * 1024
# Sign-in pauses after this many failures per username or per address within
# the window; load-test accounts can be exempted by username.
SALASAFE_LOGIN_LIMITS = {
    "failures_per_username": int(os.environ.get("SALASAFE_LOGIN_FAILURES", "10")),
    "failures_per_address": 100,
    "window_seconds": 900,
    "exempt_usernames": env_list("SALASAFE_LOGIN_EXEMPT"),
}
SALASAFE_BEHIND_PROXY = env_bool("SALASAFE_BEHIND_PROXY")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PAGINATION_CLASS": "preparedness.api.PageNumberPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "preparedness.schema.AutoSchema",
    "EXCEPTION_HANDLER": "preparedness.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SalaSafe API",
    "DESCRIPTION": (
        "Schools, child-protection services, hazards, school safety scores and "
        "preparedness plans for Cambodia."
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {
        "HazardClassEnum": "hazards.classes.HazardClass",
        "HazardTypeEnum": "hazards.classes.HazardType",
        "SectorEnum": "plans.models.Sector",
        "PlanStatusEnum": "plans.models.Plan.Status",
        "ActionStatusEnum": "plans.models.Action.Status",
        "AssessmentStatusEnum": "schools.models.Assessment.Status",
        "PlaceStatusEnum": "schools.models.Place.Status",
    },
    "COMPONENT_SPLIT_REQUEST": True,
    # Serve Swagger UI from our own static files: offices may have no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Map widgets (admin): Leaflet from our own static files, centred on Cambodia.
LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (12.6, 104.9),
    "DEFAULT_ZOOM": 7,
    "MIN_ZOOM": 3,
    "MAX_ZOOM": 19,
    "RESET_VIEW": False,
    "TILES": [
        (
            "OpenStreetMap",
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            {"attribution": "&copy; OpenStreetMap contributors", "maxZoom": 19},
        )
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Demo logins share one password, printed by `make demo`.
DEMO_PASSWORD = os.environ.get("SALASAFE_DEMO_PASSWORD", "salasafe-demo")

# What anonymous visitors may read (pages, API, exports, OGC API, tiles).
# "collections": the feature collections served to the public by the exports
# (/api/<collection>/export.*) and the OGC API (/ogc/); others need a login
# (plan_coverage by default: plans are the Forum's working documents).
# "css_scores": whether overall CSS scores and grades are public. Checklist
# details (critical gaps, answers, scores by CSSF area) are never public, and
# sensitive services (safe shelters) never show their exact place or contact to
# the public or planners, whatever this says.
SALASAFE_PUBLIC = {
    "collections": env_list(
        "SALASAFE_PUBLIC_COLLECTIONS",
        "schools,services,hazard_zones,admin_areas",
    ),
    "css_scores": env_bool("SALASAFE_PUBLIC_CSS_SCORES", True),
}

# ---------------------------------------------------------------- beyond one machine
# Storage of uploads and rasters (docs/deployment.md). The default keeps media
# files under MEDIA_ROOT. SALASAFE_STORAGE=s3 puts them in S3-compatible object
# storage (AWS S3, MinIO, Ceph, ...) through django-storages (`pip install
# .[s3]`); hazards.rasters.raster_source then reads rasters by window through
# GDAL's /vsis3/ with the same bucket, endpoint, keys and region. Without keys,
# boto3 and GDAL use their own chains (AWS_* variables, instance roles).
SALASAFE_STORAGE = os.environ.get("SALASAFE_STORAGE", "filesystem")
if SALASAFE_STORAGE == "s3":
    _S3_ENDPOINT = os.environ.get("SALASAFE_S3_ENDPOINT_URL") or None
    _S3_OPTIONS: dict[str, object] = {
        "bucket_name": os.environ.get("SALASAFE_S3_BUCKET", ""),
        "location": os.environ.get("SALASAFE_S3_PREFIX", ""),
        "endpoint_url": _S3_ENDPOINT,
        "region_name": os.environ.get("SALASAFE_S3_REGION") or None,
        "access_key": os.environ.get("SALASAFE_S3_ACCESS_KEY") or None,
        "secret_key": os.environ.get("SALASAFE_S3_SECRET_KEY") or None,
        # Other S3 servers than AWS rarely resolve bucket.host names.
        "addressing_style": os.environ.get(
            "SALASAFE_S3_ADDRESSING_STYLE", "path" if _S3_ENDPOINT else "auto"
        ),
        "file_overwrite": False,  # names are chosen by the server, never reused
    }
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": _S3_OPTIONS,  # type: ignore[dict-item]
    }
    if not _S3_OPTIONS["bucket_name"]:
        raise ImproperlyConfigured("SALASAFE_STORAGE=s3 needs SALASAFE_S3_BUCKET.")
elif SALASAFE_STORAGE != "filesystem":
    raise ImproperlyConfigured("SALASAFE_STORAGE is 'filesystem' (default) or 's3'.")

# Optional read replica (a PostgreSQL streaming replica of the primary):
# DATABASE_REPLICA_URL adds the `replica` alias. Safe-method requests (GET,
# HEAD, OPTIONS) whose path starts with one of SALASAFE_REPLICA_PREFIXES read
# from it, unless they write or run in a transaction; everything else uses the
# primary (preparedness/dbrouter.py). Reads there may lag the primary by the
# replication delay, so edit pages and plans are not in the default list.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
SALASAFE_READ_REPLICA = "replica" if DATABASE_REPLICA_URL else None
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL,
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        engine="django.contrib.gis.db.backends.postgis",
    )
SALASAFE_REPLICA_PREFIXES = env_list(
    "SALASAFE_REPLICA_PREFIXES",
    "/tiles/,/ogc/,/map/image.,/api/schools/,/api/services/,/api/admin-areas/,"
    "/api/admin_areas/,/api/hazard_zones/,/api/risk/,/api/hazards/layers/",
)
DATABASE_ROUTERS = ["preparedness.dbrouter.ReplicaRouter"]
MIDDLEWARE.insert(0, "preparedness.dbrouter.ReplicaMiddleware")

# Hostile uploads (preparedness/uploads.py). Every uploaded or imported file is
# checked before GDAL, rasterio or openpyxl opens it: its content must match its
# suffix, zips are checked member by member without extracting (count, names
# such as ../x or /x, declared sizes, compression ratio of members over 1 MB),
# XML (KML, the parts of XLSX) may not declare a DOCTYPE or entities, and a
# raster's header may not declare more pixels or bands than allowed. Django
# keeps request bodies other than files under DATA_UPLOAD_MAX_MEMORY_SIZE and
# spools files over FILE_UPLOAD_MAX_MEMORY_SIZE to disk (both 2.5 MB).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
SALASAFE_UPLOAD_LIMITS = {
    # largest hazard layer upload (POST /api/hazards/layers/), MB
    "hazard_mb": int(os.environ.get("SALASAFE_MAX_UPLOAD_MB", "200")),
    # largest area-of-interest upload (POST /api/aois/), MB
    "aoi_mb": int(os.environ.get("SALASAFE_MAX_AOI_UPLOAD_MB", "20")),
    "zip_members": int(os.environ.get("SALASAFE_ZIP_MAX_MEMBERS", "1000")),
    "zip_unpacked_mb": int(os.environ.get("SALASAFE_ZIP_MAX_UNPACKED_MB", "4096")),
    "zip_ratio": int(os.environ.get("SALASAFE_ZIP_MAX_RATIO", "200")),
    # 4e9 pixels: Cambodia at 10 m is about 65,000 x 45,000
    "raster_pixels": int(os.environ.get("SALASAFE_RASTER_MAX_PIXELS", "4000000000")),
    "raster_bands": int(os.environ.get("SALASAFE_RASTER_MAX_BANDS", "16")),
}
