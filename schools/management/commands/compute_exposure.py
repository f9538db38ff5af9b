"""`manage.py compute_exposure [--layer ID ... | --stale]`: recompute schools' and
services' exposure to the active hazard layers (all, given, or stale ones)."""

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from hazards.models import HazardLayer
from schools.exposure import Progress, exposure_recompute, stale_layers


class Command(BaseCommand):
    help = (
        "Recompute the exposure of open schools and services to every active hazard "
        "layer (or to the given ones), then their hazard levels."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--layer",
            type=int,
            action="append",
            dest="layers",
            metavar="ID",
            help="only this hazard layer (repeatable); default: every active layer",
        )
        parser.add_argument(
            "--stale",
            action="store_true",
            help="only the active layers whose exposure is missing or older than "
            "the layer's last change (e.g. after a crash during an import)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        layer_ids: list[int] | None = options["layers"]
        if options["stale"]:
            if layer_ids:
                raise CommandError("give --stale or --layer, not both", returncode=2)
            stale = stale_layers()
            if not stale:
                self.stdout.write("nothing stale")
                return
            for found in stale:
                self.stdout.write(f"stale: layer {found.pk} {found.name!r}")
            layer_ids = [found.pk for found in stale]
        elif layer_ids:
            known = HazardLayer.objects.filter(pk__in=layer_ids)
            missing = sorted(set(layer_ids) - set(known.values_list("pk", flat=True)))
            if missing:
                raise CommandError(
                    f"no hazard layer with id {', '.join(map(str, missing))}",
                    returncode=2,
                )
        bar = tqdm(unit="layer", file=sys.stderr, disable=options["verbosity"] == 0)
        try:
            result = exposure_recompute(layer_ids=layer_ids, progress=_update(bar))
        finally:
            bar.close()
        for layer in result.layers:
            self.stdout.write(
                f"layer {layer.layer_id} {layer.name!r} ({layer.representation}): "
                f"{layer.schools} schools, {layer.services} services "
                f"in {layer.seconds:.2f} s"
            )
        if layer_ids and len(result.layers) < len(set(layer_ids)):
            self.stdout.write(
                "inactive layers are not computed; their rows are removed"
            )
        self.stdout.write(
            f"{len(result.layers)} layers; {result.removed} rows of inactive layers "
            f"removed; hazard levels in {result.levels_seconds:.2f} s; "
            f"total {result.seconds:.2f} s"
        )


def _update(bar: tqdm) -> Progress:
    """A progress callback that moves `bar` to (done, total) layers."""

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    return progress
