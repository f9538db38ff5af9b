"""Load the national demo dataset (deterministic): `manage.py load_demo`."""

import time

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from preparedness.demo import DemoOptions, demo_loaded, demo_logins_text, demo_steps


class Command(BaseCommand):
    help = "Load the Cambodia demo dataset (areas, logins, schools, services)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--schools", type=int, default=13_000)
        parser.add_argument("--services", type=int, default=3_500)
        parser.add_argument(
            "--keep-admin-areas",
            action="store_true",
            help="Use the administrative areas already loaded; do not reload them.",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when schools are already loaded (used by `make demo`).",
        )

    def handle(self, *args: object, **opts: object) -> None:
        if opts["if_empty"] and demo_loaded():
            self.stdout.write("Demo data already loaded; reusing it.")
        else:
            options = DemoOptions(
                seed=int(opts["seed"]),  # type: ignore[call-overload]
                schools=int(opts["schools"]),  # type: ignore[call-overload]
                services=int(opts["services"]),  # type: ignore[call-overload]
                admin_areas=not opts["keep_admin_areas"],
                log=self.stdout.write,
            )
            started = time.perf_counter()
            with transaction.atomic():
                for step in demo_steps():
                    t0 = time.perf_counter()
                    summary = step.run(options)
                    self.stdout.write(
                        f"  {step.name}: {summary} ({time.perf_counter() - t0:.1f} s)"
                    )
            self.stdout.write(f"Demo loaded in {time.perf_counter() - started:.1f} s.")
        self.stdout.write(demo_logins_text())
