"""The run config: built once from the options, checked, immutable; variants are new configs."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from retroprop.cli import main
from retroprop.cli.config import OPTION_NAMES, TrainConfig
from retroprop.cli.errors import CLIError
from retroprop.cli.options import add_train_arguments


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    return parser.parse_args(list(argv))


def test_every_flag_is_one_field_and_the_parsed_values_are_derived():
    fields = {field.name for field in dataclasses.fields(TrainConfig)}
    assert fields == {*OPTION_NAMES, "hidden", "batch"}
    config = TrainConfig.from_args(parse("--dataset", "xor", "--layers", "8,4",
                                         "--batch-size", "full", "--seed", "3"))  # fmt: skip
    assert config.hidden == (8, 4) and config.batch is None and config.seed == 3


def test_building_the_config_leaves_the_arguments_alone():
    args = parse("--dataset", "xor")
    before = dict(vars(args))
    config = TrainConfig.from_args(args)
    assert vars(args) == before  # no hidden, no batch, no seed written back
    assert isinstance(config.seed, int)  # a random seed, drawn once
    assert config.replace(lr=0.5).seed == config.seed


def test_the_config_is_immutable_and_replace_checks_again():
    config = TrainConfig.from_args(parse("--dataset", "xor", "--seed", "0"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.lr = 1.0  # type: ignore[misc]
    changed = config.replace(layers="16", lr=0.1)
    assert (changed.hidden, changed.lr) == ((16,), 0.1) and config.hidden == (32, 16)
    with pytest.raises(CLIError, match="--lr must be a positive"):
        config.replace(lr=-1.0)
    with pytest.raises(CLIError, match="--optimizer 'sgdd' is not one of"):
        config.replace(optimizer="sgdd")
    with pytest.raises(CLIError, match="unknown training option"):
        config.replace(learning_rate=0.1)


@pytest.mark.parametrize("vary", ["optimizer=adam,sgdd", "lr=0.1,-1", "layers=8,x"])
def test_experiment_checks_every_variant_before_training(capsys, tmp_path, vary):
    out = tmp_path / "experiment"
    code = main(["experiment", "--dataset", "xor", "--epochs", "1", "--vary", vary,
                 "--out", str(out)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("retroprop: error: ") and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 2
    assert not out.exists()  # nothing trained, nothing written
