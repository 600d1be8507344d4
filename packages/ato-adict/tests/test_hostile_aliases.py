"""YAML aliases and merge keys: cost bounded by the file, never by its expansion."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ato.adict import ADict, ConfigFileError, load_file
from ato.adict.limits import MAX_ALIAS_NODES


def laughs(levels: int, width: int) -> str:
    """The "billion laughs" document: each level lists the previous one ``width`` times."""
    names = [f"l{i}" for i in range(levels)]
    text = f"{names[0]}: &{names[0]} [{', '.join(['x'] * width)}]\n"
    for prev, name in zip(names, names[1:], strict=False):
        text += f"{name}: &{name} [{', '.join(['*' + prev] * width)}]\n"
    return text


def mapping_laughs(levels: int, width: int) -> str:
    """Mapping aliases and '<<' merges doubling up level after level."""
    text = "m0: &m0 {k: v, j: w}\n"
    for i in range(1, levels):
        refs = ", ".join([f"*m{i - 1}"] * width)
        text += f"m{i}: &m{i}\n  <<: [{refs}]\n  c{i}: {{p: *m{i - 1}, q: *m{i - 1}}}\n"
    return text


@pytest.mark.parametrize(
    "text",
    [
        laughs(7, 9),  # the 254-byte reproducer
        laughs(10, 9),
        laughs(30, 2),
        laughs(4, 60),
        mapping_laughs(12, 9),
        mapping_laughs(40, 2),
    ],
    ids=["lol-7x9", "lol-10x9", "lol-30x2", "lol-4x60", "merge-12x9", "merge-40x2"],
)
def test_alias_bombs_are_refused_quickly_naming_the_file(write, text):
    path = write("bomb.yaml", text)
    with pytest.raises(ConfigFileError, match="aliases expand this document") as info:
        ADict.from_file(path)
    assert info.value.path == str(path)
    assert "*" in text.splitlines()[info.value.line - 1]  # the line of the alias crossing it


@pytest.mark.parametrize("text", ["a: &a [1, *a]\n", "a: &a {b: *a}\n", "a: &a {<<: *a, b: 1}\n"])
def test_recursive_aliases_are_refused(write, text):
    with pytest.raises(ConfigFileError, match="recursive alias") as info:
        load_file(write("rec.yaml", text))
    assert info.value.line == 1


def test_modest_alias_use_loads_and_each_alias_is_an_independent_copy(write):
    path = write(
        "ok.yaml",
        """
        base: &base {lr: 0.1, layers: [1, 2]}
        a: *base
        b:
          <<: *base
          lr: 0.2
        """,
    )
    cfg = ADict.from_file(path)
    assert cfg.a == {"lr": 0.1, "layers": [1, 2]} and cfg.b == {"lr": 0.2, "layers": [1, 2]}
    cfg.a.layers.append(3)
    assert cfg.base.layers == [1, 2] and cfg.b.layers == [1, 2]
    plain = load_file(path)
    plain["a"]["layers"].append(3)
    assert plain["base"]["layers"] == [1, 2]


def test_expansion_just_under_the_limit_loads(write):
    width = 1000
    levels_text = f"a: &a [{', '.join(['1'] * width)}]\nb: [{', '.join(['*a'] * 99)}]\n"
    data = load_file(write("big.yaml", levels_text))
    assert len(data["b"]) == 99 and data["b"][98] == [1] * width  # 99,099 added values


@st.composite
def alias_graphs(draw):
    """A YAML document of anchored lists referring to earlier ones, and how many values its
    aliases add once each is counted as a copy."""
    count = draw(st.integers(1, 8))
    lines, expanded, extra = [], [], 0
    for i in range(count):
        refs = draw(st.lists(st.integers(0, i - 1), max_size=12)) if i else []
        leaves = draw(st.lists(st.integers(0, 9), max_size=4))
        items = [str(v) for v in leaves] + [f"*n{r}" for r in refs]
        lines.append(f"n{i}: &n{i} [{', '.join(items)}]")
        expanded.append(1 + len(leaves) + sum(expanded[r] for r in refs))
        extra += expanded[i] - (1 + len(items))
    return "\n".join(lines) + "\n", extra


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(alias_graphs())
def test_alias_graphs_load_equal_to_pyyaml_exactly_up_to_the_limit(write, graph):
    text, extra = graph
    path = write("g.yaml", text)
    if extra > MAX_ALIAS_NODES:
        with pytest.raises(ConfigFileError, match=f"expand this document by {extra} values"):
            ADict.from_file(path)
    else:
        assert ADict.from_file(path) == yaml.safe_load(text)
