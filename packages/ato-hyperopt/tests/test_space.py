from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ato.adict import ADict
from ato.hyperopt import GridSpaceMixIn, SearchSpaceError
from ato.hyperopt.space import flatten_spaces, grid_values


def test_log_float_grid_is_exact_powers_of_ten() -> None:
    spec = dict(param_type="FLOAT", param_range=(1e-5, 1e-1), num_samples=5, space_type="LOG")
    values = grid_values("lr", spec)
    assert values == [1e-05, 1e-04, 0.001, 0.01, 0.1]
    assert all(type(v) is float for v in values)
    assert [repr(v) for v in values] == ["1e-05", "0.0001", "0.001", "0.01", "0.1"]


def test_log_integer_grid_uses_base_two_by_default() -> None:
    spec = dict(param_type="INTEGER", param_range=(16, 128), num_samples=4, space_type="LOG")
    values = grid_values("batch_size", spec)
    assert values == [16, 32, 64, 128]
    assert all(type(v) is int for v in values)


def test_log_base_can_be_chosen() -> None:
    spec = dict(param_type="FLOAT", param_range=(1.0, 8.0), num_samples=4, space_type="LOG", base=2)
    assert grid_values("x", spec) == [1.0, 2.0, 4.0, 8.0]


def test_linear_float_grid_has_no_float_noise() -> None:
    spec = dict(param_type="FLOAT", param_range=(0, 1), num_samples=11)
    assert grid_values("p", spec) == [i / 10 for i in range(11)]


def test_integer_grid_is_deduplicated() -> None:
    spec = dict(param_type="INTEGER", param_range=(1, 4), num_samples=10)
    assert grid_values("layers", spec) == [1, 2, 3, 4]
    log = dict(param_type="integer", param_range=(1, 8), num_samples=20, space_type="log")
    values = grid_values("width", log)
    assert values == sorted(set(values)) and values[0] == 1 and values[-1] == 8


def test_one_sample_is_the_low_bound() -> None:
    assert grid_values("x", dict(param_type="FLOAT", param_range=(0.5, 2.0), num_samples=1)) == [
        0.5
    ]


def test_category_keeps_values_and_order() -> None:
    cats = ["b", {"depth": 3}, None]
    assert grid_values("m", dict(param_type="CATEGORY", categories=cats)) == cats


def test_nested_groups_flatten_to_dotted_names() -> None:
    lr = dict(param_type="FLOAT", param_range=(0.1, 0.2), num_samples=2)
    flat = flatten_spaces(
        {"optimizer": {"lr": lr}, "seed": dict(param_type="CATEGORY", categories=[1])}
    )
    assert list(flat) == ["optimizer.lr", "seed"]


def test_grid_is_the_product_with_last_parameter_fastest(seed_spaces: ADict) -> None:
    points = GridSpaceMixIn.grid_points(seed_spaces)
    assert len(points) == 40
    assert points[0] == {"lr": 1e-05, "batch_size": 16, "model": "resnet50"}
    assert points[1] == {"lr": 1e-05, "batch_size": 16, "model": "resnet101"}
    assert len({tuple(p.values()) for p in points}) == 40


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"param_range": (0, 1), "num_samples": 2}, "no 'param_type'"),
        ({"param_type": "BOOL"}, "unknown param_type 'BOOL'"),
        (
            {"param_type": "FLOAT", "param_range": (0, 1), "num_samples": 2, "space_type": "EXP"},
            "unknown space_type 'EXP'",
        ),
        (
            {"param_type": "FLOAT", "param_range": (1, 0), "num_samples": 2},
            "param_range low 1 > high 0",
        ),
        (
            {"param_type": "FLOAT", "param_range": (0, 1), "num_samples": 2, "space_type": "LOG"},
            "LOG space needs param_range > 0",
        ),
        (
            {"param_type": "FLOAT", "param_range": (-1, 1), "num_samples": 2, "space_type": "LOG"},
            "LOG space needs param_range > 0",
        ),
        (
            {"param_type": "FLOAT", "param_range": (0, 1), "num_samples": 0},
            "num_samples must be an int >= 1",
        ),
        (
            {"param_type": "FLOAT", "param_range": (0, 1), "num_samples": 2.5},
            "num_samples must be an int >= 1",
        ),
        (
            {"param_type": "FLOAT", "param_range": (0, 1), "num_samples": -3},
            "num_samples must be an int >= 1, got -3",
        ),
        ({"param_type": "FLOAT", "param_range": (0, 1)}, "no 'num_samples'"),
        ({"param_type": "FLOAT", "num_samples": 3}, "no 'param_range'"),
        (
            {"param_type": "FLOAT", "param_range": (0, 1, 2), "num_samples": 3},
            "must be (low, high)",
        ),
        ({"param_type": "FLOAT", "param_range": ("a", 1), "num_samples": 3}, "finite numbers"),
        ({"param_type": "INTEGER", "param_range": (0.5, 3), "num_samples": 3}, "must be integers"),
        ({"param_type": "CATEGORY", "categories": []}, "'categories' is empty"),
        ({"param_type": "CATEGORY"}, "'categories' must be a list"),
        ({"param_type": "CATEGORY", "categories": "abc"}, "'categories' must be a list"),
        (
            {"param_type": "FLOAT", "param_range": (0, 1), "num_sample": 3},
            "Did you mean 'num_samples'",
        ),
        (
            {"param_type": "CATEGORY", "categories": [1], "param_range": (0, 1)},
            "unknown key 'param_range'",
        ),
        (
            {
                "param_type": "FLOAT",
                "param_range": (1, 2),
                "num_samples": 2,
                "space_type": "LOG",
                "base": 1,
            },
            "base must be",
        ),
    ],
)
def test_bad_specs_raise_naming_the_parameter(spec: dict, fragment: str) -> None:
    with pytest.raises(SearchSpaceError) as info:
        grid_values("optimizer.lr", spec)
    assert "'optimizer.lr'" in str(info.value)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"param_range": (0, 1), "num_samples": 2}, "no 'param_type'"),
        ({"param_type": "FLOAT", "param_range": (3, 1), "num_samples": 2}, "param_range low"),
        (
            {"param_type": "INTEGER", "param_range": (0, 8), "num_samples": 4, "space_type": "LOG"},
            "LOG space needs param_range > 0",
        ),
        ({"param_type": "CATEGORY", "categories": []}, "'categories' is empty"),
    ],
)
def test_search_construction_rejects_a_bad_nested_spec_by_its_dotted_name(
    spec: dict, fragment: str
) -> None:
    from ato.hyperopt import HyperBand

    spaces = {
        "seed": {"param_type": "CATEGORY", "categories": [0, 1]},
        "optimizer": {"lr": spec},
    }
    with pytest.raises(SearchSpaceError) as info:
        HyperBand(ADict(), spaces, halving_rate=0.5, num_min_samples=1)
    assert str(info.value).startswith("search space 'optimizer.lr'")
    assert fragment in str(info.value)


def test_non_mapping_spec_and_empty_space_are_rejected() -> None:
    with pytest.raises(SearchSpaceError, match="'lr'"):
        flatten_spaces({"lr": [0.1, 0.2]})
    with pytest.raises(SearchSpaceError, match="empty"):
        flatten_spaces({})
    with pytest.raises(SearchSpaceError, match="mapping"):
        flatten_spaces([("lr", {})])  # type: ignore[arg-type]


@given(
    low=st.floats(1e-8, 1e3),
    ratio=st.floats(1.0, 1e6),
    num=st.integers(1, 30),
    log=st.booleans(),
)
def test_float_grids_are_sorted_and_keep_exact_endpoints(
    low: float, ratio: float, num: int, log: bool
) -> None:
    high = low * ratio
    spec = dict(
        param_type="FLOAT",
        param_range=(low, high),
        num_samples=num,
        space_type="LOG" if log else "LINEAR",
    )
    values = grid_values("x", spec)
    assert len(values) == num
    assert values[0] == low
    if num > 1:
        assert values[-1] == high
    assert values == sorted(values)
    assert all(low <= v <= high and math.isfinite(v) for v in values)


@given(
    low=st.integers(-50, 50), span=st.integers(0, 300), num=st.integers(1, 40), log=st.booleans()
)
def test_integer_grids_are_distinct_sorted_ints_within_range(
    low: int, span: int, num: int, log: bool
) -> None:
    if log:
        low = abs(low) + 1
    high = low + span
    spec = dict(
        param_type="INTEGER",
        param_range=(low, high),
        num_samples=num,
        space_type="LOG" if log else "LINEAR",
    )
    values = grid_values("n", spec)
    assert values == sorted(set(values))
    assert all(type(v) is int and low <= v <= high for v in values)
    assert values[0] == low and len(values) <= num


def test_a_misspelt_param_type_key_is_named() -> None:
    spec = {"param_tpye": "FLOAT", "param_range": (0.0, 1.0), "num_samples": 3}
    with pytest.raises(SearchSpaceError, match=r"'lr' has no 'param_type' \(found 'param_tpye'"):
        grid_values("lr", spec)


@pytest.mark.parametrize(
    ("low", "high", "num", "expected"),
    [
        (
            1e-4,
            1e-1,
            7,
            [0.0001, 0.000316227766017, 0.001, 0.00316227766017, 0.01, 0.0316227766017, 0.1],
        ),
        (1.0, 2.0, 4, [1.0, 1.25992104989, 1.58740105197, 2.0]),  # 2 ** (1/3), 2 ** (2/3)
        (3e-4, 3e-1, 4, [0.0003, 0.003, 0.03, 0.3]),
    ],
)
def test_log_float_inner_points_are_pinned_exactly(
    low: float, high: float, num: int, expected: list[float]
) -> None:
    spec = dict(param_type="FLOAT", param_range=(low, high), num_samples=num, space_type="LOG")
    assert grid_values("lr", spec) == expected


def test_log_integer_inner_points_round_to_the_nearest_integer() -> None:
    spec = dict(param_type="INTEGER", param_range=(1, 100), num_samples=5, space_type="LOG")
    assert grid_values("width", spec) == [1, 3, 10, 32, 100]  # 3.16 -> 3, 31.6 -> 32


@pytest.mark.parametrize("param_type", ["FLOAT", "INTEGER"])
@pytest.mark.parametrize("base", [2, 10, math.e, 0.5, 7])
def test_log_base_never_changes_the_points(param_type: str, base: float) -> None:
    spec = dict(param_type=param_type, param_range=(1, 1000), num_samples=6, space_type="LOG")
    assert grid_values("x", {**spec, "base": base}) == grid_values("x", spec)


@pytest.mark.parametrize("base", [0, -2, 1, 1.0, math.inf, math.nan, True, "10", None])
@pytest.mark.parametrize("param_type", ["FLOAT", "INTEGER"])
def test_a_bad_log_base_is_rejected_naming_the_parameter(base: object, param_type: str) -> None:
    spec = dict(
        param_type=param_type, param_range=(1, 8), num_samples=4, space_type="LOG", base=base
    )
    with pytest.raises(SearchSpaceError) as info:
        grid_values("optimizer.lr", spec)
    assert str(info.value).startswith(
        f"search space 'optimizer.lr': LOG base must be a finite number > 0 and != 1, got {base!r}"
    )


def test_of_two_unknown_keys_the_first_in_the_spec_is_named() -> None:
    spec = dict(param_type="FLOAT", param_range=(0, 1), num_samples=2, colour=1, spaec_type=2)
    with pytest.raises(SearchSpaceError) as info:
        grid_values("lr", spec)
    message = str(info.value)
    assert message.startswith("search space 'lr' (FLOAT): unknown key 'colour'.")
    assert "'spaec_type'" not in message
    swapped = dict(param_type="FLOAT", param_range=(0, 1), num_samples=2, spaec_type=2, colour=1)
    with pytest.raises(
        SearchSpaceError, match=r"unknown key 'spaec_type'\. Did you mean 'space_type'\?"
    ):
        grid_values("lr", swapped)


def test_log_grids_reaching_the_float_limits_stay_finite_and_inside() -> None:
    top = 1.7976931348623157e308
    spec = dict(param_type="FLOAT", param_range=(5e-324, top), num_samples=7, space_type="LOG")
    values = grid_values("x", spec)
    assert values[0] == 5e-324 and values[-1] == top
    assert all(math.isfinite(v) for v in values) and values == sorted(values)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            dict(param_type="FLOAT", param_range=(0, 1), num_samples=2, colour=1),
            "search space 'lr' (FLOAT): unknown key 'colour'. Allowed keys: base, condition, "
            "num_samples, param_range, param_type, space_type",
        ),
        (
            dict(param_typ="FLOAT", param_range=(0, 1)),
            "search space 'lr' has no 'param_type' (found 'param_typ': did you mean "
            "'param_type'?); set it to one of FLOAT, INTEGER, CATEGORY",
        ),
        (
            dict(kind="FLOAT"),
            "search space 'lr' has no 'param_type'; set it to one of FLOAT, INTEGER, CATEGORY",
        ),
        (
            dict(param_type="BOOL"),
            "search space 'lr': unknown param_type 'BOOL'; use one of FLOAT, INTEGER, CATEGORY",
        ),
        (
            dict(param_type=3),
            "search space 'lr': unknown param_type 3; use one of FLOAT, INTEGER, CATEGORY",
        ),
        (
            dict(param_type="FLOAT", param_range=(0, 1), num_samples=2, space_type="EXP"),
            "search space 'lr': unknown space_type 'EXP'; use one of LINEAR, LOG",
        ),
    ],
)
def test_spec_errors_read_exactly(spec: dict, message: str) -> None:
    with pytest.raises(SearchSpaceError) as info:
        grid_values("lr", spec)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("spaces", "message"),
    [
        ([1], "search_spaces must be a mapping of parameter name to spec, not list"),
        ({}, "search_spaces is empty; give at least one parameter"),
        ({"a": 3}, "search space 'a': expected a mapping with 'param_type', got int 3"),
    ],
)
def test_search_space_shape_errors_read_exactly(spaces: object, message: str) -> None:
    with pytest.raises(SearchSpaceError) as info:
        flatten_spaces(spaces)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_a_group_holding_a_key_named_param_type_is_a_spec() -> None:
    spec = {"param_type": {"x": 1}}
    with pytest.raises(SearchSpaceError, match="unknown param_type"):
        grid_values("g", flatten_spaces({"g": spec})["g"])
