"""Random streams of a replication: one per purpose and key (a route, a role, a person, a case).

Each purpose has a stream of its own, so that changing one part of a scenario leaves the others'
draws as they were (common random numbers), and results do not depend on the order in which a
run happens to ask for them. No module-level random state: every stream is built from the
replication's seed and index.
"""

from __future__ import annotations

import enum
import zlib
from collections.abc import Sequence
from typing import cast

import numpy as np
import numpy.typing as npt
from numpy.random.bit_generator import ISeedSequence

__all__ = ["Purpose", "Streams"]

# NumPy's ``SeedSequence`` (numpy/random/bit_generator.pyx, after M. E. O'Neill's seed_seq):
# its hash constants, and the size of its pool in 32-bit words
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_MULT_L, _MIX_MULT_R = 0xCA01F9DD, 0x4973F715
_POOL = 4
_U32 = np.uint32


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

    def many(self, purpose: Purpose, keys: Sequence[int]) -> list[np.random.Generator]:
        """``[self(purpose, key) for key in keys]`` (the same generators, in the same states),
        built about seven times sooner: the seeding's hash is worked out for all the keys at
        once (``_pcg64_seeds``), not key by key (a run builds one for each of its cases).

        Examples
        --------
        >>> streams = Streams(seed=1, index=2)
        >>> [g.random() for g in streams.many(Purpose.CASES, [0, 7])] == [
        ...     streams(Purpose.CASES, 0).random(), streams(Purpose.CASES, 7).random()]
        True
        """
        if not len(keys):
            return []
        if min(keys) < 0 or max(keys) >= 1 << 32:  # more than one word: numpy's own way
            return [self(purpose, key) for key in keys]
        seeds = _pcg64_seeds(self.seed, (self.index, int(purpose)), keys)
        # NumPy takes any ``ISeedSequence`` (its stubs name only ``SeedSequence``)
        return [np.random.Generator(np.random.PCG64(cast(np.random.SeedSequence, _Seeded(row))))
                for row in seeds]


class _Seeded(ISeedSequence):
    """The words a ``SeedSequence`` would give ``PCG64`` (which asks for four 64-bit words)."""

    def __init__(self, words: npt.NDArray[np.uint64]) -> None:
        self.words = words

    def generate_state(self, n_words: int, dtype: npt.DTypeLike = np.uint32
                       ) -> npt.NDArray[np.uint64]:
        if n_words != 4 or np.dtype(dtype) != np.dtype(np.uint64):
            raise ValueError("these words are PCG64's seed only")
        return self.words


def _words(value: int) -> list[int]:
    """An entropy integer as ``SeedSequence`` reads it: 32-bit words, least significant first."""
    if value < 0:
        raise ValueError("seeds and keys are never negative")
    out = [value & 0xFFFFFFFF]
    value >>= 32
    while value:
        out.append(value & 0xFFFFFFFF)
        value >>= 32
    return out


def _pcg64_seeds(entropy: int, prefix: tuple[int, ...], keys: Sequence[int]
                 ) -> npt.NDArray[np.uint64]:
    """``SeedSequence(entropy, spawn_key=(*prefix, key)).generate_state(4, np.uint64)`` for
    every key (each below 2**32), one row each: NumPy's algorithm step for step, on a column of
    32-bit words per entropy word (unsigned arithmetic wraps as in its C)."""
    n = len(keys)
    run = _words(entropy)
    if len(run) < _POOL:  # a spawned sequence pads its entropy to the pool
        run += [0] * (_POOL - len(run))
    fixed = run + [w for k in prefix for w in _words(k)]
    columns = [np.full(n, w, dtype=_U32) for w in fixed]
    columns.append(np.asarray(keys, dtype=np.uint64).astype(_U32))
    hash_a = _U32(_INIT_A)

    def hashmix(value: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
        nonlocal hash_a
        value = value ^ hash_a
        hash_a = _U32(hash_a * _U32(_MULT_A))
        value = value * hash_a
        return value ^ (value >> _U32(16))

    def mix(x: npt.NDArray[np.uint32], y: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
        result: npt.NDArray[np.uint32] = _U32(_MIX_MULT_L) * x - _U32(_MIX_MULT_R) * y
        mixed: npt.NDArray[np.uint32] = result ^ (result >> _U32(16))
        return mixed

    with np.errstate(over="ignore"):
        zeros = np.zeros(n, dtype=_U32)
        pool = [hashmix(columns[i] if i < len(columns) else zeros) for i in range(_POOL)]
        for src in range(_POOL):
            for dst in range(_POOL):
                if src != dst:
                    pool[dst] = mix(pool[dst], hashmix(pool[src]))
        for src in range(_POOL, len(columns)):
            for dst in range(_POOL):
                pool[dst] = mix(pool[dst], hashmix(columns[src]))
        hash_b = _U32(_INIT_B)
        state = np.empty((n, 8), dtype=_U32)  # four 64-bit words as eight 32-bit ones
        for i in range(8):
            value = pool[i % _POOL] ^ hash_b
            hash_b = _U32(hash_b * _U32(_MULT_B))
            value = value * hash_b
            state[:, i] = value ^ (value >> _U32(16))
    return state.astype("<u4").view("<u8").astype(np.uint64)
