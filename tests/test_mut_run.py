"""RunDir.write_config: what the run group's mutants left alive (issue 31)."""

import json

from slipform.run import RunDir


def test_write_config_makes_the_run_folder_with_its_parents_and_writes_again(tmp_path):
    run = RunDir(tmp_path / "runs" / "cement" / "seed0")  # parents absent
    config = {"loss": {"kind": "cement", "margin_max": 0.2}, "batch_size": 8}
    assert run.write_config(config) == tmp_path / "runs" / "cement" / "seed0" / "config.json"
    # the file a user reads: indented by 2, as json.dumps writes it
    assert run.config.read_text() == ('{\n  "loss": {\n    "kind": "cement",\n    "margin_max": 0.2\n  },\n'
                                      '  "batch_size": 8\n}')
    # a restarted run writes it again into its existing folder
    config["batch_size"] = 16
    run.write_config(config)
    assert json.loads(run.config.read_text())["batch_size"] == 16


def test_the_margin_fit_files_have_their_documented_names(tmp_path):
    run = RunDir(tmp_path)  # properties: mutmut does not mutate decorated functions, so this pins them
    assert (run.margin_fit.name, run.margin_fit_plot.name) == ("margin_fit.json", "margin_fit.png")
    assert run.margin_fit.parent == tmp_path == run.margin_fit_plot.parent
