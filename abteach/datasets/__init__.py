"""Real experiment data shipped with abteach: loaders that check the released files' checksums.

See :mod:`abteach.datasets.loaders`.
"""

from abteach.datasets.loaders import (
    ASOS_FILE,
    HILLSTROM_ARMS,
    HILLSTROM_FILE,
    ChecksumError,
    DataFile,
    asos,
    hillstrom,
    hillstrom_events,
    read_verified,
)

__all__ = [
    "ASOS_FILE",
    "HILLSTROM_ARMS",
    "HILLSTROM_FILE",
    "ChecksumError",
    "DataFile",
    "asos",
    "hillstrom",
    "hillstrom_events",
    "read_verified",
]
