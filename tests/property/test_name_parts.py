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


def _reference_fold(text: str) -> str:
    """``fold`` as first written: one character at a time."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.replace("ı", "i").split())


@settings(max_examples=600, deadline=None)
@given(st.one_of(st.text(), st.lists(words, min_size=1, max_size=4).map(" ".join),
                 st.text(alphabet="aAöÖüßıİéèçñ ̈̀ˆ\u00a8\u00a0ﬁ½ЖжΣσς李 \t")))
def test_fold_fast_paths_agree_with_the_plain_one(text: str) -> None:
    from vaultnetz.names import _UMLAUTS, fold, folds

    assert fold(text) == _reference_fold(text)
    lowered = " ".join(text.casefold().split())
    expected = {lowered} if lowered.isascii() else {
        _reference_fold(lowered), _reference_fold(lowered.translate(_UMLAUTS))}
    assert folds(text) == expected


@settings(max_examples=600, deadline=None)
@given(st.one_of(st.text(), st.lists(words, min_size=1, max_size=4).map(" ".join),
                 st.text(alphabet="aAöÖüßıİéèçñ ̈̀ˆ\u00a8\u00a0ﬁ½ЖжΣσς李 \t.-'()1\x1c\x7f")))
def test_every_fold_keeps_the_ascii_marks_of_a_name(name: str) -> None:
    """``find_contact`` rules a name out without folding it when it has an ASCII letter,
    digit or mark that a wanted form lacks: that rests on this."""
    from vaultnetz.names import _ASCII_MARKS, folds

    marks = _ASCII_MARKS.intersection(name.casefold())
    for folded in folds(name):
        assert marks <= set(folded), (name, folded)


@settings(max_examples=600, deadline=None)
@given(st.one_of(st.text(), st.lists(words, min_size=1, max_size=4).map(" ".join),
                 st.text(alphabet="aAöÖüßıİéèçñ ̈̀ˆ\u00a8\u00a0ﬁ½ЖжΣσς李 \t.-'()1\\/mdMD\x1c\x7f"),
                 st.text(alphabet="ab .mdMD\\").map(lambda t: t + ".md")))
def test_link_key_keeps_the_ascii_marks_of_a_name_in_nfc(name: str) -> None:
    """``find_contact`` skips ``link_key`` for a name in NFC with an ASCII letter, digit or
    mark that the wanted key lacks (but for what link_key may drop): that rests on this."""
    import unicodedata

    from vaultnetz.names import _ASCII_MARKS, _LINK_KEY_DROPS
    from vaultnetz.notes import link_key

    if not unicodedata.is_normalized("NFC", name):
        return  # composing may turn an ASCII letter into another one: link_key is asked
    marks = _ASCII_MARKS.intersection(name.casefold())
    assert marks <= set(link_key(name)) | _LINK_KEY_DROPS, (name, link_key(name))
