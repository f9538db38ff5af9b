"""Progress bars for management commands on large inputs."""

import sys

from tqdm import tqdm


class ProgressBar:
    """A tqdm bar on stderr, shown only when there are more than `threshold` items.

    Call it as `bar(done, total)` (the services' progress callback), then `close()`.
    """

    def __init__(self, *, unit: str, threshold: int = 1000) -> None:
        self.unit = unit
        self.threshold = threshold
        self.bar: tqdm | None = None

    def __call__(self, done: int, total: int) -> None:
        if total <= self.threshold:
            return
        if self.bar is None:
            self.bar = tqdm(total=total, unit=self.unit, file=sys.stderr)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
