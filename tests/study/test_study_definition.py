"""Study definitions from TOML and search spaces: parsing and clear errors."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from debugkit.study import StudyDefinition, load_study, parse_space
from debugkit.study.jobs import expand
from debugkit.train import ConfigError, TrainConfig

ABLATION = """
kind = "ablation"
name = "regularisation"
seeds = [0, 1]

[base]
dataset = "digits"
epochs = 2
[base.model]
name = "mlp"
hidden = [16]
dropout = 0.2

[[changes]]
name = "no dropout"
changes = { "model.dropout" = 0.0 }

[[changes]]
name = "adam"
changes = { optimizer = "adam", lr = 0.001 }
"""


def test_ablation_from_toml_expands_to_runs(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text(ABLATION)
    d = load_study(path)
    assert d.kind == "ablation" and d.seeds == [0, 1] and [c.name for c in d.changes] == ["no dropout", "adam"]
    jobs = expand(d, tmp_path / "out")
    assert len(jobs) == 3 * 2
    variants = {j.variant for j in jobs}
    assert variants == {"baseline", "no dropout", "adam"}
    adam = [j for j in jobs if j.variant == "adam"][0]
    assert adam.config.optimizer == "adam" and adam.config.lr == 0.001 and adam.config.model["dropout"] == 0.2
    assert adam.config.group == "regularisation/adam"
    assert adam.run_dir == Path(tmp_path / "out" / "runs" / "adam" / "seed-0")


def test_lr_batch_and_cv_expand(tmp_path):
    base = TrainConfig(model={"name": "softmax"}, epochs=1)
    d = StudyDefinition(kind="lr-batch", base=base, lrs=[0.1, 1.0], batch_sizes=[16, "full"], seeds=3)
    jobs = expand(d, tmp_path)
    assert len(jobs) == 2 * 2 * 3
    assert {(j.config.lr, j.config.batch_size) for j in jobs} == {(0.1, 16), (1.0, 16), (0.1, "full"), (1.0, "full")}
    cv = expand(StudyDefinition(kind="cv", base=base, folds=4), tmp_path)
    assert [j.config.cv_fold for j in cv] == [0, 1, 2, 3] and all(j.config.cv_folds == 4 for j in cv)


def test_bad_definitions_are_explained(tmp_path):
    base = TrainConfig()
    with pytest.raises(ConfigError, match="study kind 'grid' is not valid.*lr-batch"):
        StudyDefinition(kind="grid", base=base)
    with pytest.raises(ConfigError, match="change 'wide'.*model.widht"):
        StudyDefinition(kind="ablation", base=base, changes=[{"name": "wide", "changes": {"model.widht": 3}}])
    with pytest.raises(ConfigError, match="at least one entry in changes"):
        StudyDefinition(kind="ablation", base=base)
    with pytest.raises(ConfigError, match="folds must be an integer >= 2"):
        StudyDefinition(kind="cv", base=base, folds=1)
    with pytest.raises(ConfigError, match="batch_sizes"):
        StudyDefinition(kind="lr-batch", base=base, batch_sizes=[0])
    bad = tmp_path / "s.toml"
    bad.write_text('kind = "seeds"\nseed = 3\n[base]\n')
    with pytest.raises(ConfigError, match="unknown study key.*seed"):
        load_study(bad)
    bad.write_text('kind = "seeds"\n[base]\nlrr = 1\n')
    with pytest.raises(ConfigError, match="lrr.*did you mean 'lr'"):
        load_study(bad)


def test_search_space_parsing():
    space = parse_space({
        "lr": {"low": 1e-4, "high": 1e-1, "log": True},
        "model.hidden": [[16], [64, 64]],
        "batch_size": [16, 64],
        "epochs": {"low": 1, "high": 5},
        "model.dropout": {"low": 0.0, "high": 0.5},
    }, TrainConfig())
    assert space["lr"].kind == "float" and space["lr"].log
    assert space["epochs"].kind == "int"
    assert space["model.hidden"].encoded and space["model.hidden"].decode(space["model.hidden"].encode([16])) == [16]
    assert not space["batch_size"].encoded
    assert space["lr"].position(1e-4) == 0 and space["lr"].position(1e-1) == pytest.approx(1)
    assert space["lr"].position(10 ** -2.5) == pytest.approx(0.5)
    assert space["model.hidden"].position([64, 64]) == 1.0
    narrowed = space["lr"].narrowed([1e-3, 1e-2])
    assert (narrowed.low, narrowed.high) == (1e-3, 1e-2)
    assert space["model.hidden"].narrowed([[16]]).choices == ([16],)
    with pytest.raises(ConfigError, match="grid sampler needs a list of values for 'lr'"):
        space["lr"].grid_values()
    assert math.isnan(space["batch_size"].position(None))


@pytest.mark.parametrize("spec,match", [
    ({"lr": {"low": 0, "high": 1, "log": True}}, "log range needs low > 0"),
    ({"lr": {"low": 1, "high": 0.1}}, "low must be below high"),
    ({"lr": {"min": 1}}, "unknown field"),
    ({"lr": []}, "empty list"),
    ({"lr": 0.1}, "must be a list of values or a range"),
    ({"model.widht": [1, 2]}, "does not fit the base config.*model.widht"),
    ({}, "non-empty search space"),
])
def test_bad_spaces(spec, match):
    with pytest.raises(ConfigError, match=match):
        parse_space(spec, TrainConfig())


EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "debugkit" / "study" / "examples").glob("*.toml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_shipped_examples_are_valid(path, tmp_path):
    from debugkit.study import load_sweep

    if path.stem == "sweep":
        kwargs = load_sweep(path)
        assert kwargs["sampler"] == "random" and "lr" in kwargs["space"]
        return
    d = load_study(path)
    jobs = expand(d, tmp_path)
    assert jobs and all(isinstance(j.config, TrainConfig) for j in jobs)
    if d.kind == "ablation":
        assert len(d.changes) >= 10  # the Mini-Challenge asks for at least ten hypotheses


def test_sweep_file_errors(tmp_path):
    from debugkit.study import load_sweep

    bad = tmp_path / "s.toml"
    bad.write_text('samplr = "tpe"\n[space]\nlr = [0.1]\n[base]\n')
    with pytest.raises(ConfigError, match="unknown sweep key.*samplr"):
        load_sweep(bad)
    bad.write_text('[base]\n')
    with pytest.raises(ConfigError, match=r"needs a \[space\] table"):
        load_sweep(bad)
