"""Random streams of a replication: one per purpose and key (a route, a role, a person, a case).

Each purpose has a stream of its own, so that changing one part of a scenario leaves the others'
draws as they were (common random numbers), and results do not depend on the order in which a
run happens to ask for them. No module-level random state: every stream is built from the
replication's seed and index.
"""

from __future__ import annotations

import enum
import zlib

import numpy as np

__all__ = ["Purpose", "Streams"]


class Purpose(enum.IntEnum):
    """What a stream is for (its number is part of the stream's key: never renumber)."""

    ARRIVALS = 0
    BACKGROUND = 1
    LEAVE = 2
    DIARY = 3
    CASES = 4


class Streams:
    """The random streams of replication ``index`` of a run with ``seed``.

    Examples
    --------
    >>> streams = Streams(seed=1, index=0)
    >>> a = streams(Purpose.LEAVE, "lado", 0).random()
    >>> a == Streams(seed=1, index=0)(Purpose.LEAVE, "lado", 0).random()
    True
    >>> a == streams(Purpose.LEAVE, "lado", 1).random()
    False
    """

    __slots__ = ("index", "seed")

    def __init__(self, seed: int, index: int) -> None:
        self.seed = seed
        self.index = index

    def __call__(self, purpose: Purpose, *key: int | str) -> np.random.Generator:
        """A new generator for ``purpose`` and ``key`` (the same arguments give the same
        draws)."""
        ints = tuple(zlib.crc32(k.encode()) if isinstance(k, str) else k for k in key)
        return np.random.Generator(np.random.PCG64(
            np.random.SeedSequence(self.seed, spawn_key=(self.index, int(purpose), *ints))))
