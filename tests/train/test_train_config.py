"""TrainConfig: defaults, TOML round trip, validation messages, dotted with_changes."""

from __future__ import annotations

import pytest

from debugkit.train import OPTIMIZERS, ConfigError, TrainConfig


def test_defaults_are_valid_and_round_trip_through_dict():
    cfg = TrainConfig()
    again = TrainConfig.from_dict(cfg.to_dict())
    assert again == cfg
    assert again is not cfg


def test_toml_round_trip_keeps_every_field(tmp_path):
    cfg = TrainConfig(
        dataset="digits", image_size=[16, 16], channels=3, normalize=None, augment={"rotation": 10, "hflip": True},
        limit=100, model={"name": "mlp", "hidden": [32, 16], "dropout": 0.1}, init={"scheme": "normal", "std": 0.02},
        optimizer="adamw", lr=3e-4, betas=[0.8, 0.99], weight_decay=0.01, schedule="step",
        schedule_params={"step_size": 2, "gamma": 0.5}, batch_size="full", epochs=7, max_steps=50, seed=3,
        monitor=False, group="g", tags=["a", "b"], cv_folds=5, cv_fold=2,
    )
    path = cfg.save(tmp_path / "c.toml")
    text = path.read_text()
    assert "normalize = \"none\"" in text  # TOML has no null
    assert "[model]" in text
    assert TrainConfig.load(path) == cfg


def test_unknown_key_names_key_and_suggests(tmp_path):
    with pytest.raises(ConfigError) as err:
        TrainConfig.from_dict({"lrr": 0.1})
    msg = str(err.value)
    assert "'lrr'" in msg and "did you mean 'lr'" in msg and "valid keys" in msg

    bad = tmp_path / "bad.toml"
    bad.write_text('optimiser = "adam"\n')
    with pytest.raises(ConfigError, match=r"optimiser.*bad\.toml.*did you mean 'optimizer'"):
        TrainConfig.load(bad)


def test_invalid_toml_and_missing_file(tmp_path):
    bad = tmp_path / "broken.toml"
    bad.write_text("lr = = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        TrainConfig.load(bad)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        TrainConfig.load(tmp_path / "nope.toml")


def test_bad_choices_list_the_valid_ones():
    with pytest.raises(ConfigError) as err:
        TrainConfig(optimizer="rmsprop")
    assert "optimizer='rmsprop'" in str(err.value)
    for name in OPTIMIZERS:
        assert name in str(err.value)
    with pytest.raises(ConfigError, match="schedule='linear'.*cosine"):
        TrainConfig(schedule="linear")
    with pytest.raises(ConfigError, match="monitor='bogus'.*economy"):
        TrainConfig(monitor="bogus")
    with pytest.raises(ConfigError, match="model.name='resnet'"):
        TrainConfig(model={"name": "resnet"})
    with pytest.raises(ConfigError, match="model.hiden.*did you mean 'hidden'"):
        TrainConfig(model={"name": "mlp", "hiden": [3]})
    with pytest.raises(ConfigError, match="schedule_params.gama.*step_size, gamma"):
        TrainConfig(schedule="step", schedule_params={"gama": 0.1})
    with pytest.raises(ConfigError, match="augment: unknown option"):
        TrainConfig(augment={"mixup": True})


def test_several_problems_are_reported_together():
    with pytest.raises(ConfigError) as err:
        TrainConfig(lr=-1, batch_size=0, epochs=0)
    msg = str(err.value)
    assert "lr must be > 0" in msg and "batch_size" in msg and "epochs must be >= 1" in msg


@pytest.mark.parametrize("value", [0, -3, "fulll", 2.5, True])
def test_batch_size_must_be_positive_int_or_full(value):
    with pytest.raises(ConfigError, match="batch_size"):
        TrainConfig(batch_size=value)


def test_cv_fold_must_be_inside_folds():
    with pytest.raises(ConfigError, match="cv_fold must be in 0..2"):
        TrainConfig(cv_folds=3, cv_fold=3)
    with pytest.raises(ConfigError, match="cv_folds"):
        TrainConfig(cv_fold=1)


def test_normalised_spellings():
    cfg = TrainConfig(monitor=True, normalize="none", augment=["hflip"], optimizer="Adam")
    assert cfg.monitor == "economy"
    assert cfg.normalize is None
    assert cfg.augment == {"hflip": True}
    assert cfg.optimizer == "adam"
    assert TrainConfig(monitor="off").monitor is False


def test_with_changes_dotted_keys_leave_original_alone():
    base = TrainConfig(model={"name": "mlp", "hidden": [64], "dropout": 0.2})
    new = base.with_changes({"lr": 0.01, "model.hidden": [128], "model.dropout": 0.0,
                             "schedule": "step", "schedule_params.gamma": 0.5, "augment.rotation": 15})
    assert new.lr == 0.01 and new.model == {"name": "mlp", "hidden": [128], "dropout": 0.0}
    assert new.schedule_params == {"gamma": 0.5} and new.augment == {"rotation": 15}
    assert base.model == {"name": "mlp", "hidden": [64], "dropout": 0.2} and base.lr == 0.1
    # a scheme name becomes a table when an option is set
    assert base.with_changes({"init.std": 0.05}).init == {"scheme": "default", "std": 0.05}


def test_with_changes_rejects_unknown_or_non_table_keys():
    base = TrainConfig()
    with pytest.raises(ConfigError, match="unknown key 'lrate'"):
        base.with_changes({"lrate": 1})
    with pytest.raises(ConfigError, match="'lr' is not a table"):
        base.with_changes({"lr.value": 1})
    with pytest.raises(ConfigError, match="model.width"):
        base.with_changes({"model.width": 3})
    with pytest.raises(ConfigError, match="optimizer='sgdd'"):
        base.with_changes({"optimizer": "sgdd"})
