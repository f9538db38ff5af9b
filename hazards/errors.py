"""Why a hazard file is refused: errors that name the option or upload field at fault.

They are `preparedness.readers.InputError`s, so commands exit with code 2 and the
API answers 400 with `{field: [message]}` (`file` unless another field is at fault).
"""

from preparedness.readers import InputError


class HazardInputError(InputError):
    """Input refused as a whole; `field` names the option or upload field at fault."""

    def __init__(self, message: str, *, field: str = "file") -> None:
        super().__init__(message)
        self.field = field


class RasterError(HazardInputError):
    """A raster that cannot be a hazard layer (bands, CRS, nodata, extent)."""
