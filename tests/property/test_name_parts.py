"""Hypothesis: the fast path of ``parse_name`` reads a plain name as nameparser does."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from nameparser import HumanName

from vaultnetz.names import is_not_a_name, parse_name

words = st.sampled_from(["Anna", "Berger", "Özlem", "Yıldız", "María", "José", "García",
                         "López", "Jean-Luc", "Lea", "Maria", "RM", "Smith", "Ann", "Evans",
                         "van", "von", "der", "Dr", "Jr", "Field", "de", "la", "1283", "Mac",
                         "O'Brien", "Prof.", "III", "and", "y", "Sr.", "Mr"])


@settings(max_examples=400, deadline=None)
@given(st.lists(words, min_size=1, max_size=5).map(" ".join))
def test_parse_name_agrees_with_nameparser(name: str) -> None:
    if is_not_a_name(name):
        return  # digits that look like a phone number: no name (see parse_name)
    ours = parse_name(name)
    theirs = HumanName(name)
    if " " not in name and theirs.title and not (theirs.first or theirs.last):
        return  # one word nameparser takes for a title: ours is the name (see parse_name)
    assert (ours.title, ours.first, ours.middle, ours.last, ours.suffix) == (
        theirs.title, theirs.first, theirs.middle, theirs.last, theirs.suffix), name
