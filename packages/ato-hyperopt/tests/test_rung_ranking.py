"""RungRanking answers as a sorted list of the same keys would, after any sequence of added,
replaced and promoted results (the heaps' boundary at ``floor(n / eta)`` kept right)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ato.hyperopt.rung_ranking import Key, RungRanking

RANKS = st.sampled_from([float("-inf"), -1.0, 0.0, 0.5, 1.0, float("inf")])
STEPS = st.lists(
    st.tuples(st.sampled_from(["add", "replace", "promote"]), RANKS, st.booleans(), st.integers(0)),
    max_size=200,
)


class SortedReference:
    """The same questions answered from every key, sorted each time."""

    def __init__(self, eta: int) -> None:
        self.eta = eta
        self.keys: dict[int, Key] = {}
        self.waiting: set[Key] = set()

    def promotable(self) -> int | None:
        ranked = sorted(self.keys.values())
        if not self.waiting:
            return None
        best = min(self.waiting)
        return best[1] if ranked.index(best) < len(ranked) // self.eta else None

    def best(self) -> Key | None:
        return min(self.keys.values(), default=None)


@settings(max_examples=200, deadline=None)
@given(eta=st.integers(2, 4), steps=STEPS)
def test_rung_ranking_answers_as_a_sorted_list(
    eta: int, steps: list[tuple[str, float, bool, int]]
) -> None:
    ranking, reference = RungRanking(eta), SortedReference(eta)
    for op, rank, waiting, pick in steps:
        if op == "promote":
            trial = ranking.promotable()
            assert trial == reference.promotable()
            if trial is not None:
                ranking.promote(trial)
                reference.waiting.discard(reference.keys[trial])
            continue
        trials = len(reference.keys)
        trial = pick % trials if op == "replace" and trials else trials  # replace: an earlier one
        if trial in reference.keys:
            old = reference.keys[trial]
            ranking.discard(old)
            reference.waiting.discard(old)
        key = (rank, trial)
        ranking.add(key, waiting)
        reference.keys[trial] = key
        if waiting:
            reference.waiting.add(key)
        assert len(ranking) == len(reference.keys)
        assert ranking.promotable() == reference.promotable()
        assert ranking.best() == reference.best()


def test_rankings_of_the_same_results_are_equal_whatever_their_order() -> None:
    keys = [(0.5, 0), (-1.0, 1), (2.0, 2), (0.0, 3), (1.0, 4)]
    forward, backward, other = RungRanking(2), RungRanking(2), RungRanking(2)
    for key in keys:
        forward.add(key, waiting=True)
    for key in reversed(keys):
        backward.add(key, waiting=True)
    for key in keys:
        other.add(key, waiting=key[1] != 3)
    assert forward == backward
    assert forward != other  # trial 3 is not waiting there
    assert forward != RungRanking(3)


def test_rankings_of_different_results_are_not_equal() -> None:
    first, second = RungRanking(2), RungRanking(2)
    first.add((0.5, 0), waiting=False)
    second.add((0.7, 0), waiting=False)  # trial 0 scored otherwise; neither waits
    assert first != second
    second.discard((0.7, 0))
    second.add((0.5, 0), waiting=False)
    assert first == second
