"""Scope build cost: 50 views + 200 CLI overrides on a 1,000-key config, next to OmegaConf.

Both sides do the same work from the same inputs on every repetition: start from the
1,000-key base config, apply 50 views (each sets 5 keys; OmegaConf: 50 merges of the same
values), then 200 command-line overrides (OmegaConf: ``from_dotlist`` + merge). ato-scope also
parses the argv tokens, runs the views as functions and records per-key provenance.

Target (issue 3): the ato-scope build stays under 20 ms. Prints medians and the ratio.
Run: ``nox -s bench`` or ``python benchmarks/bench_scope.py``.
"""

from __future__ import annotations

from omegaconf import OmegaConf
from timing import median_ms

from ato.scope import Scope

GROUPS, KEYS_PER_GROUP, VIEWS, KEYS_PER_VIEW, OVERRIDES = 10, 100, 50, 5, 200
REPEATS = 30


def base_config() -> dict:
    return {f"g{g}": {f"k{k}": float(k) for k in range(KEYS_PER_GROUP)} for g in range(GROUPS)}


def view_values(v: int) -> dict[str, float]:
    return {
        f"g{v % GROUPS}.k{(v * KEYS_PER_VIEW + j) % KEYS_PER_GROUP}": v + j / 10
        for j in range(KEYS_PER_VIEW)
    }


def argv() -> list[str]:
    return [f"g{i % GROUPS}.k{(i * 7) % KEYS_PER_GROUP}={i * 0.5}" for i in range(OVERRIDES)]


def make_scope() -> Scope:
    scope = Scope(config=base_config())
    for v in range(VIEWS):
        values = [(path.split("."), value) for path, value in view_values(v).items()]

        def view(config, values=values):
            for (group, key), value in values:
                config[group][key] = value

        scope.observe(f"view{v}", default=True)(view)
    return scope


def nested(flat: dict[str, float]) -> dict:
    out: dict = {}
    for path, value in flat.items():
        group, key = path.split(".")
        out.setdefault(group, {})[key] = value
    return out


def omegaconf_build(base: dict, views: list[dict], dotlist: list[str]) -> object:
    config = OmegaConf.create(base)
    for view in views:
        config = OmegaConf.merge(config, OmegaConf.create(view))
    return OmegaConf.merge(config, OmegaConf.from_dotlist(dotlist))


def main() -> None:
    scope, tokens = make_scope(), argv()
    views = [nested(view_values(v)) for v in range(VIEWS)]
    base = base_config()
    ato_config = scope.build(tokens)
    omega = omegaconf_build(base, views, tokens)
    assert OmegaConf.to_container(omega) == ato_config.to_dict(), "both sides must agree"

    base_omega = OmegaConf.create(base)
    ato_ms = median_ms(lambda: scope.build(tokens), repeats=REPEATS)
    omega_ms = median_ms(lambda: omegaconf_build(base, views, tokens), repeats=5)
    cli_ms = median_ms(
        lambda: OmegaConf.merge(base_omega, OmegaConf.from_dotlist(tokens)), repeats=REPEATS
    )
    keys = GROUPS * KEYS_PER_GROUP
    print(f"Scope build: {VIEWS} views + {OVERRIDES} CLI overrides on a {keys}-key config (median)")
    print(f"  ato-scope build (parse + views + CLI + provenance) : {ato_ms:9.2f} ms")
    print(f"    target < 20 ms: {'met' if ato_ms < 20 else 'MISSED'}")
    print(f"  OmegaConf, same views as merges + dotlist merge    : {omega_ms:9.2f} ms")
    print(f"  OmegaConf, dotlist merge of the overrides only     : {cli_ms:9.2f} ms")
    print(f"  ratio ato-scope / OmegaConf (same work)     = {ato_ms / omega_ms:6.3f}x")
    print(f"  ratio ato-scope / OmegaConf (overrides only) = {ato_ms / cli_ms:6.3f}x")


if __name__ == "__main__":
    main()
