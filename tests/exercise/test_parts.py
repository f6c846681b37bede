"""Notebook→script conversion, logbook cells, the data probe and the reference classifier (no kernel)."""

import math

import nbformat
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from debugkit.exercise import find_logbook
from debugkit.exercise.convert import check_script, clean_source, crash_location
from debugkit.exercise.evidence import data_checks
from debugkit.exercise.probe import DataProbe
from debugkit.exercise.templates import TAG_INSTRUMENTATION, logbook_entry

v4 = nbformat.v4


def tagged(cell, tag):
    cell.metadata["tags"] = [tag]
    return cell


def test_check_script_leaves_out_instrumentation_and_magics(tmp_path):
    nb = v4.new_notebook(cells=[
        v4.new_markdown_cell("# title"),
        v4.new_code_cell("%matplotlib inline\nx = 1\n!ls\nfor i in range(2):\n    %time y = i"),
        tagged(v4.new_code_cell("monitor = debugkit.Monitor(model)"), TAG_INSTRUMENTATION),
        v4.new_code_cell("display(x)\nraise ValueError('boom')"),
    ])
    script = check_script(nb, tmp_path / "s.py", workdir=tmp_path, threads=None)
    text = script.path.read_text()
    assert "Monitor" not in text
    assert not [line for line in text.split("\n") if line.lstrip().startswith(("%", "!"))]
    assert script.cells == [1, 3]
    lines = text.split("\n")
    for n, (cell, k) in script.line_map.items():
        src = clean_source(nb.cells[cell].source).split("\n")
        assert lines[n - 1] == src[k - 1]
    assert "    pass  # IPython magic left out" in text
    compile(text, str(script.path), "exec")

    # a traceback in the log is mapped back to the notebook cell
    boom = next(n for n, (c, k) in script.line_map.items() if c == 3 and k == 2)
    script.log.write_text(f'Traceback (most recent call last):\n  File "{script.path}", line {boom}, in <module>\n'
                          "    raise ValueError('boom')\nValueError: boom\n")
    assert crash_location(script) == (3, "ValueError: boom")
    script.log.write_text("epoch 1 ...\n")
    assert crash_location(script) is None


def test_logbook_entries_in_markdown_cells():
    filled = ("## 1. Loss explodes\n\n**Observation.** loss grows\n\n**Hypothesis.** accumulation\n\n"
              "**Experiment.** zero_grad\n\n**Result.** 0.96\n\n**Verdict.** confirmed — yes")
    nb = v4.new_notebook(cells=[
        v4.new_markdown_cell(logbook_entry(1)),
        v4.new_markdown_cell(filled + "\n\n## 2. Second\n\n**Observation.** slow\n\n**Verdict.** inconclusive"),
        v4.new_markdown_cell(logbook_entry(3).replace("_What could explain it? Why would that produce what you saw?_",
                                                      "The learning rate.")),
        v4.new_markdown_cell("**Observation.** no heading\n\n**Verdict.** perhaps"),
        v4.new_markdown_cell("## Notes\n\nno sections here"),
    ])
    lb = find_logbook(nb)
    assert [e.cell for e in lb.entries] == [1, 1, 2, 3]
    first, second, third, fourth = lb.entries
    assert first.title == "Loss explodes" and first.complete and first.verdict == "confirmed"
    assert second.filled == ["observation", "verdict"] and second.verdict == "inconclusive" and not second.complete
    assert third.filled == ["hypothesis"] and third.error and "verdict is missing" in third.error
    assert fourth.error and "perhaps" in fourth.error and fourth.filled == ["observation", "verdict"]
    assert lb.empty_templates == 1 and lb.complete == 1
    assert lb.verdicts == {"confirmed": 1, "inconclusive": 1}


def test_data_probe_tells_training_rows_from_validation_rows(tmp_path):
    torch.manual_seed(0)
    x, y = torch.randn(200, 8), torch.randint(0, 3, (200,))
    train_x, train_y = x[:150], y[:150]
    val_leaky, val_clean = x[100:150], x[150:]
    model = nn.Linear(8, 3)
    probe = DataProbe(tmp_path / "probe").install(save_at_exit=False)
    try:
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        loader = DataLoader(TensorDataset(train_x, train_y), batch_size=25, shuffle=True)
        eval_loader = DataLoader(TensorDataset(val_clean, y[150:]), batch_size=25)
        for _ in range(2):
            for xb, yb in loader:
                opt.zero_grad()
                nn.functional.cross_entropy(model(xb * 2), yb).backward()  # "augmented" model input
                opt.step()
            with torch.no_grad():
                model(val_leaky)  # validation, every epoch
        with torch.no_grad():
            for xb, _ in eval_loader:  # a loader used only for evaluation is not training data
                model(xb)
            model(val_clean)
    finally:
        probe.uninstall()
    s = probe.summary()
    assert s["steps"] == 12 and s["training_rows"] == 150 and s["training_loaders"] == 1 and s["loaders"] == 2
    val, other = s["eval_sets"]
    assert val == {"set": "validation", "n": 50, "count": 2, "overlap": 1.0}  # the leaky set, every epoch
    assert other == {"set": "other", "n": 100, "count": 1, "overlap": 0.0}  # the clean sets, once at the end
    assert s["val_overlap"] == 1.0
    probe.save()
    data = torch.load(tmp_path / "probe.pt")
    assert data["raw_x"].shape == (150, 8) and data["aug_x"].shape == (12 * 25, 8)
    # the model's inputs (doubled) with their batch's labels, the loader's rows as they came
    row = data["aug_x"][0] / 2
    match = (train_x - row).abs().sum(1).argmin()
    assert torch.allclose(train_x[match], row) and data["aug_y"][0] == train_y[match]
    assert (tmp_path / "probe.json").is_file()
    assert DataLoader.__iter__.__name__ != "loader_iter"  # uninstalled


def test_reference_classifier_sees_wrong_labels_and_label_changing_augmentation(tmp_path):
    torch.manual_seed(0)
    centers = torch.randn(4, 16) * 3
    y = torch.randint(0, 4, (800,))
    x = centers[y] + torch.randn(800, 16)

    def checks(raw_y, aug_x):
        torch.save({"raw_x": x, "raw_y": raw_y, "aug_x": aug_x, "aug_y": y}, tmp_path / "p.pt")
        return data_checks(tmp_path / "p.pt")

    good = checks(y, x + 0.1 * torch.randn_like(x))
    assert good["label_heldout_acc"] > 0.9 and good["aug_retention"] > 0.9
    shuffled = checks(y[torch.randperm(800)], x)
    assert shuffled["label_heldout_acc"] < shuffled["chance"] + 0.15
    destroyed = checks(y, centers[(y + 1) % 4] + torch.randn(800, 16))  # augmentation turns one class into another
    assert destroyed["aug_retention"] < 0.3
    assert math.isclose(good["aug_clean_acc"], destroyed["aug_clean_acc"])
