"""The random streams: the cases' generators built all at once are NumPy's own, state for state."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.streams import Purpose, Streams, _pcg64_seeds


def _numpy_state(seed: int, index: int, purpose: Purpose, key: int) -> dict[str, object]:
    seq = np.random.SeedSequence(seed, spawn_key=(index, int(purpose), key))
    return dict(np.random.PCG64(seq).state)


@settings(max_examples=60, deadline=None)
@given(seed=st.one_of(st.integers(0, 2**32 - 1), st.integers(0, 2**256)),
       index=st.integers(0, 2**40), purpose=st.sampled_from(list(Purpose)),
       keys=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=8))
def test_many_builds_numpys_generators(seed: int, index: int, purpose: Purpose,
                                       keys: list[int]) -> None:
    """Seeds of one word or many (a pool padded, or longer than the pool), keys to 2**32 - 1."""
    built = Streams(seed, index).many(purpose, keys)
    assert [dict(g.bit_generator.state) for g in built] == [
        _numpy_state(seed, index, purpose, key) for key in keys]


def test_many_draws_as_the_one_by_one_streams() -> None:
    streams = Streams(seed=20240401, index=3)
    keys = range(0, 5000, 7)
    built = streams.many(Purpose.CASES, keys)
    one_by_one = [streams(Purpose.CASES, key) for key in keys]
    for a, b in zip(built, one_by_one, strict=True):
        assert a.random(3).tolist() == b.random(3).tolist()
        assert a.lognormal(1.0, 0.5) == b.lognormal(1.0, 0.5)


def test_keys_beyond_one_word_take_numpys_own_way() -> None:
    streams = Streams(seed=5, index=0)
    big = [2**32, 2**40 + 3]
    assert [dict(g.bit_generator.state) for g in streams.many(Purpose.LEAVE, big)] == [
        _numpy_state(5, 0, Purpose.LEAVE, key) for key in big]
    assert streams.many(Purpose.LEAVE, []) == []


def test_the_hash_differs_with_every_part_of_the_key() -> None:
    """A mutation of the hash (a constant, a step) would make the states equal or wrong."""
    rows = _pcg64_seeds(1, (0, 4), [0, 1, 2])
    assert len({tuple(r) for r in rows.tolist()}) == 3
    assert rows.tolist() != _pcg64_seeds(1, (1, 4), [0, 1, 2]).tolist()
    assert rows.tolist() != _pcg64_seeds(2, (0, 4), [0, 1, 2]).tolist()


def test_negative_entropy_is_refused() -> None:
    with pytest.raises(ValueError, match="never negative"):
        _pcg64_seeds(-1, (0, 4), [0])
