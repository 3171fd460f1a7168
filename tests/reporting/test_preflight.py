"""A run's options checked before anything runs, however the ``RunConfig`` was built
(the ``run`` command, ``demo``, ``reproduce``, or code)."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from csc_outcomes.ingest import UsageError
from csc_outcomes.reporting import preflight
from csc_outcomes.reporting.parameter_schema import ParameterError
from csc_outcomes.warehouse import WarehouseSchemaError

from conftest import tiny_config


def test_a_good_config_passes(tiny_setup, tmp_path):
    preflight.check(tiny_config(tiny_setup, tmp_path, la_codes=("SYN01", "syn02")))


@pytest.mark.parametrize("jobs", [0, -1, True, 2.0, "2"])
def test_jobs_must_be_a_whole_number_of_at_least_one(tiny_setup, tmp_path, jobs):
    with pytest.raises(UsageError, match=f"jobs: expected a whole number of at least 1, got {jobs!r}"):
        preflight.check(tiny_config(tiny_setup, tmp_path, jobs=jobs))


def test_la_codes_in_form_and_known(tiny_setup, tmp_path):
    with pytest.raises(UsageError, match="not an LA code"):
        preflight.check(tiny_config(tiny_setup, tmp_path, la_codes=("../../escape",)))
    with pytest.raises(UsageError, match=r"--la SYN09: no such LA in the warehouse .* \(it holds SYN01, SYN02\)"):
        preflight.check(tiny_config(tiny_setup, tmp_path, la_codes=("SYN01", "SYN09")))
    # without a warehouse, the measures table says which LAs there are
    config = tiny_config(tiny_setup, tmp_path, la_codes=("SYN03",), warehouse=tmp_path / "none.duckdb")
    with pytest.raises(UsageError, match="no such LA in the measures table"):
        preflight.check(config)


def test_parameter_files_and_the_warehouse(tiny_setup, tmp_path):
    params = shutil.copytree(tiny_setup / "parameters", tmp_path / "parameters")
    (params / "defaults.yaml").write_text("suppression_threshold: 3\n")
    with pytest.raises(ParameterError, match="suppression_threshold: expected a whole number of at least 5"):
        preflight.check(tiny_config(tiny_setup, tmp_path, parameters_dir=params))
    wh = shutil.copy(tiny_setup / "data" / "warehouse.duckdb", tmp_path / "w.duckdb")
    with duckdb.connect(str(wh)) as con:
        con.execute('ALTER TABLE cin_episodes DROP COLUMN "ReferralNFA"')
    with pytest.raises(WarehouseSchemaError, match=r"column cin_episodes\.ReferralNFA"):
        preflight.check(tiny_config(tiny_setup, tmp_path, warehouse=wh))
