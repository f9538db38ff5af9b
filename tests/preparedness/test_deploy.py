"""Production settings: Django's deployment checks pass at warning level with
HTTPS on, and SALASAFE_HTTPS=0 (make serve on loopback) turns HTTPS-only off."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def production_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SALASAFE_DEMO")}
    env.update(
        DJANGO_SETTINGS_MODULE="preparedness.settings",
        SECRET_KEY="a-production-key-" + "x" * 50,
        ALLOWED_HOSTS="salasafe.example.org",
    )
    env.pop("SALASAFE_HTTPS", None)
    env.update(extra)
    return env


def test_the_deployment_checks_pass_with_https_on():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def _settings(env: dict[str, str]) -> dict:
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def test_https_only_is_the_default_and_one_setting_turns_it_off_for_loopback():
    assert _settings(production_env()) == [True, True, True, 31536000]
    assert _settings(production_env(SALASAFE_HTTPS="0")) == [False, False, False, 0]
