"""Key format: every single typo and adjacent swap is caught; normalization is forgiving."""

from __future__ import annotations

import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from license_manager.domain.errors import InvalidInput
from license_manager.domain.license_keys import (
    ALPHABET,
    KEY_SYMBOLS,
    display,
    from_random,
    is_valid,
    key_id,
    last5,
    normalize,
)


def random_key() -> str:
    return from_random([secrets.randbelow(32) for _ in range(24)])


SAMPLES = [random_key() for _ in range(40)] + [
    from_random([0] * 24),
    from_random([31] * 24),
    from_random(list(range(24))),
]


@pytest.mark.parametrize("key", SAMPLES)
def test_every_single_symbol_typo_is_caught(key: str) -> None:
    assert is_valid(key)
    for position in range(KEY_SYMBOLS):
        for symbol in ALPHABET:
            if symbol != key[position]:
                typo = key[:position] + symbol + key[position + 1 :]
                assert not is_valid(typo), (key, position, symbol)


@pytest.mark.parametrize("key", SAMPLES)
def test_every_adjacent_swap_is_caught(key: str) -> None:
    for position in range(KEY_SYMBOLS - 1):
        a, b = key[position], key[position + 1]
        if a != b:
            swapped = key[:position] + b + a + key[position + 2 :]
            assert not is_valid(swapped), (key, position)


def test_a_key_is_25_symbols_in_five_groups() -> None:
    key = random_key()
    shown = display(key)
    assert len(key) == 25
    assert [len(g) for g in shown.split("-")] == [5, 5, 5, 5, 5]


def test_typing_is_forgiving_case_spaces_dashes_and_aliases() -> None:
    key = from_random([1, 0] * 12)  # full of 1s and 0s
    typed = display(key).lower().replace("1", "l").replace("0", "o").replace("-", " - ")
    assert normalize(typed) == key
    assert normalize(" " + display(key).replace("1", "I") + "\n") == key


@pytest.mark.parametrize("typed", ["", "ABC", "U" * 25, "7K3QF-9ZP2M", "!" * 25])
def test_garbage_is_mistyped(typed: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        normalize(typed)
    assert raised.value.extra["code"] == "mistyped_key"


@given(st.lists(st.integers(min_value=0, max_value=31), min_size=24, max_size=24))
def test_every_generated_key_is_valid_and_hashes_stably(values: list[int]) -> None:
    key = from_random(values)
    assert is_valid(key)
    assert key_id(key) == key_id(normalize(display(key).lower()))
    assert key not in key_id(key)
    assert last5(key) == key[-5:]


def test_keys_are_drawn_from_120_random_bits() -> None:
    keys = {random_key()[:24] for _ in range(2000)}
    assert len(keys) == 2000
    counts = dict.fromkeys(ALPHABET, 0)
    for key in keys:
        for symbol in key:
            counts[symbol] += 1
    assert min(counts.values()) > 0  # every symbol appears: the whole alphabet is used
