"""``selectors.words_containing`` finds words with ``str.find`` in the words joined one a line;
it must give what a test of each word gives, in the same order, at every place."""

from __future__ import annotations

import random

import pytest

from dashboard.audit.selectors import words_containing

VOCABULARY = ["{c0040}", "spring", "upsell", "0040", "agent01234", "01234", "jose", "josé",
              "ortiz", "|", "e", "ee", "emma", "gemma", "emmanuel", "a", "ran", "dry"]  # fmt: skip
PLACES = {
    "inside": lambda w, word: word in w,
    "end": lambda w, word: w.endswith(word),
    "start": lambda w, word: w.startswith(word),
    "whole": lambda w, word: w == word,
}


def plain(known: list[str], word: str, place: str, most: int) -> list[str] | None:
    found = [w for w in known if PLACES[place](w, word)]
    return None if len(found) > most else found


@pytest.mark.parametrize("place", list(PLACES))
def test_lookup_is_the_test_of_each_word(place):
    rng = random.Random(16)
    known = [
        *VOCABULARY,
        *("".join(rng.choices("ae0123|{}", k=rng.randint(1, 6))) for _ in range(300)),
    ]
    known = list(dict.fromkeys(known))
    typed = ["", "e", "ee", "emma", "0040", "{c", "}", "|", "a0", "zz", "ortiz", "01234", "s"]
    typed += ["".join(rng.choices("ae0123|{}", k=rng.randint(1, 3))) for _ in range(100)]
    for word in typed:
        for most in (0, 3, 500):
            got = words_containing("agent_search", word, known=known, place=place, most=most)
            assert got == plain(known, word, place, most), (word, most)
    # Not vacuous: some lookups find several words, some none.
    assert (
        len(words_containing("x", "e", known=known, place=place))
        == (1 if place == "whole" else sum(PLACES[place](w, "e") for w in known))
        > 0
    )
    assert words_containing("x", "zz", known=known, place=place) == []
