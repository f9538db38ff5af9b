"""`manage.py compute_risk`: recompute every school's nearest services and risk."""

import sys
import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.db.models import Count
from tqdm import tqdm

from schools.models import RiskClass, SchoolRisk
from schools.risk.nearest import nearest_services_refresh
from schools.risk.services import risk_recompute


class Command(BaseCommand):
    help = (
        "Recompute the nearest service of each kind for every open school, then "
        "every school's risk score and class (docs/methodology.md)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--risk-only", action="store_true", help="skip the nearest services"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        steps = 1 if options["risk_only"] else 2
        bar = tqdm(
            total=steps, unit="step", file=sys.stderr, disable=options["verbosity"] == 0
        )
        try:
            if not options["risk_only"]:
                started = time.perf_counter()
                written = nearest_services_refresh()
                bar.update(1)
                seconds = time.perf_counter() - started
                self.stdout.write(
                    f"nearest services: {written} schools in {seconds:.2f} s"
                )
            result = risk_recompute()
            bar.update(1)
        finally:
            bar.close()
        counts = dict(
            SchoolRisk.objects.values_list("risk_class")
            .annotate(n=Count("pk"))
            .order_by()
        )
        by_class = ", ".join(
            f"{label.lower()} {counts.get(value, 0)}"
            for value, label in RiskClass.choices
        )
        self.stdout.write(
            f"risk: {result.schools} schools ({result.written} changed) in "
            f"{result.seconds:.2f} s; {by_class}"
        )
