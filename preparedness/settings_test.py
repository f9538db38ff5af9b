"""Test override: fast hashing, in-memory mail, a fixed key."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-key")
os.environ.setdefault("SALASAFE_HTTPS", "0")  # the test client speaks plain HTTP
# Tests read what they have just written, also anonymously; the public cache
# has its own tests (tests/test_public_cache.py), which turn it on.
os.environ.setdefault("SALASAFE_PUBLIC_CACHE_SECONDS", "0")

from preparedness.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

# Parallel test runs on one cluster each take their own test database.
if os.environ.get("SALASAFE_TEST_DB_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["SALASAFE_TEST_DB_NAME"]}  # noqa: F405

# WhiteNoise serves STATIC_ROOT (filled by collectstatic in production); tests
# find app static files directly.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

# A second alias on the same test database, standing in for a read replica
# (tests/test_replica.py). Nothing reads from it unless a test sets
# SALASAFE_READ_REPLICA = "replica".
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405

# Each test starts with an empty cache (tests/conftest.py clears it): a
# per-process memory cache, since the database cache's table is neither rolled
# back nor flushed between tests.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "public": CACHES["public"],  # noqa: F405
    "public_local": CACHES["public_local"],  # noqa: F405
}
