"""Follow-ups of a hazard layer change, registered by the apps above hazards.

`hazards` knows nothing of schools or plans. When a layer is imported, edited,
activated, deactivated or deleted, its services call `layers_changed`, which
runs every registered callback after the transaction commits. The schools app
registers its exposure recompute here (and plans its trigger checks) in
`AppConfig.ready()`. Not Django signals: an explicit, typed list.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction


@dataclass(frozen=True)
class LayerChange:
    """Which layers changed; `removed` lists those deleted or deactivated."""

    layer_ids: tuple[int, ...]
    removed: tuple[int, ...] = ()


LayerChangeCallback = Callable[[LayerChange], None]

_callbacks: list[LayerChangeCallback] = []


def on_layer_change(callback: LayerChangeCallback) -> None:
    """Register `callback` (once) to run after any committed layer change."""
    if callback not in _callbacks:
        _callbacks.append(callback)


def layers_changed(change: LayerChange) -> None:
    """Run every registered callback once the current transaction commits."""

    def run() -> None:
        for callback in list(_callbacks):
            callback(change)

    transaction.on_commit(run)
