"""Optuna sweeps on digits: samplers, pruning on epochs, figures, SIGKILL + resume, PostgreSQL sharing."""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import optuna
import pytest
from matplotlib.image import imread
from optuna.trial import TrialState

import debugkit
from debugkit.study import default_storage, run_sweep
from debugkit.train import ConfigError, TrainConfig

pytestmark = pytest.mark.slow

BASE = TrainConfig(model={"name": "softmax"}, epochs=3, monitor=False)
SPACE = {"lr": {"low": 1e-3, "high": 1.0, "log": True}, "batch_size": [32, 256]}
ROOT = Path(__file__).resolve().parents[2]


def _states(storage: str, name: str = "sweep") -> list[optuna.trial.FrozenTrial]:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False)


def test_random_sweep_with_hyperband_prunes_on_epochs(tmp_path):
    res = run_sweep(SPACE, BASE, out_dir=tmp_path, sampler="random", pruner="hyperband", n_trials=8, workers=1,
                    progress=False, seed=3)
    assert res.n_finished == 8
    states = res.trials["state"].value_counts().to_dict()
    assert states.get("COMPLETE", 0) >= 1 and set(states) <= {"COMPLETE", "PRUNED"}
    for t in res.study.get_trials(deepcopy=False):
        # one intermediate value per finished epoch: the budget is counted in epochs
        assert sorted(t.intermediate_values) == list(range(1, t.user_attrs["epochs"] + 1))
        run = debugkit.load_run(t.user_attrs["run_dir"])
        assert run.meta["status"] == ("pruned" if t.state == TrialState.PRUNED else "finished")
        assert run.meta["sweep"]["trial"] == t.number and run.meta["group"] == "sweep"
        if t.state == TrialState.PRUNED:
            assert len(run.epochs) - 1 < BASE.epochs
    best = TrainConfig.load(tmp_path / "best_config.toml")
    assert best.lr == pytest.approx(res.best_params["lr"]) and best.batch_size == res.best_params["batch_size"]
    assert res.best_value == max(t.value for t in res.study.trials if t.state == TrialState.COMPLETE)
    for name in ("parallel_coordinates", "importance", "history"):
        img = imread(res.figures[name])
        assert img.shape[0] > 300 and img[..., :3].std() > 0.05
    md = (tmp_path / "sweep.md").read_text()
    assert "Best trial" in md and "optimistic" in md
    assert (tmp_path / "trials.csv").exists() and (tmp_path / "sweep.db").exists()


def test_grid_sweep_visits_every_combination_once(tmp_path):
    space = {"lr": [0.05, 0.5], "model.name": ["softmax", "mlp"], "batch_size": [64]}
    res = run_sweep(space, BASE.with_changes({"epochs": 1}), out_dir=tmp_path, sampler="grid", n_trials=100,
                    workers=1, progress=False)
    combos = sorted((r["lr"], r["model.name"]) for _, r in res.trials.iterrows())
    assert combos == [(0.05, "mlp"), (0.05, "softmax"), (0.5, "mlp"), (0.5, "softmax")]
    assert res.importance and set(res.importance) <= {"lr", "model.name", "batch_size"}
    assert {"lr", "model.name=softmax", "model.name=mlp"} <= set(res.correlations)


def test_sweep_input_errors(tmp_path):
    with pytest.raises(ConfigError, match="grid sampler needs a list of values for 'lr'"):
        run_sweep(SPACE, BASE, out_dir=tmp_path, sampler="grid", progress=False)
    with pytest.raises(ConfigError, match="sampler='bayes'.*grid, random, tpe"):
        run_sweep(SPACE, BASE, out_dir=tmp_path, sampler="bayes", progress=False)
    with pytest.raises(ConfigError, match="pruner='median'"):
        run_sweep(SPACE, BASE, out_dir=tmp_path, pruner="median", progress=False)
    run_sweep({"lr": [0.1]}, BASE.with_changes({"epochs": 1}), out_dir=tmp_path, sampler="random", n_trials=1,
              progress=False, plots=False)
    with pytest.raises(ConfigError, match="different space"):
        run_sweep({"lr": [0.2]}, BASE.with_changes({"epochs": 1}), out_dir=tmp_path, sampler="random", n_trials=2,
                  progress=False)


DRIVER = textwrap.dedent("""
    import json, os, sys, time
    from pathlib import Path
    from debugkit.study import run_sweep
    from debugkit.train import TrainConfig

    if __name__ == "__main__":
        out, storage, n, name = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
        ready, go = (sys.argv[5], sys.argv[6]) if len(sys.argv) > 6 else (None, None)
        base = TrainConfig(model={"name": "softmax"}, epochs=int(os.environ.get("EPOCHS", "3")), monitor=False)
        space = json.loads(os.environ["SWEEP_SPACE"])
        if ready:
            import optuna, sqlalchemy, debugkit.data, debugkit.train  # noqa: F401  (imported before the start line)
            debugkit.data.load_dataset("digits")
            Path(ready).touch()
            while not Path(go).exists():
                time.sleep(0.05)
        run_sweep(space, base, out_dir=out, storage=None if storage == "-" else storage, study_name=name,
                  sampler="random", n_trials=n, workers=1, progress=False, plots=False, seed=os.getpid())
""")


def _driver(tmp_path: Path) -> Path:
    path = tmp_path / "driver.py"
    path.write_text(DRIVER)
    return path


def _env(space: dict = SPACE, **extra) -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", SWEEP_SPACE=json.dumps(space), **extra)


def test_killed_sweep_resumes_without_losing_trials(tmp_path):
    out = tmp_path / "sweep"
    storage = default_storage(out)
    n_trials = 4
    # small batches and several epochs: every trial lasts a second or more, so it is still running when killed
    space = {"lr": {"low": 1e-3, "high": 1.0, "log": True}, "batch_size": [16]}
    proc = subprocess.Popen([sys.executable, str(_driver(tmp_path)), str(out), "-", str(n_trials), "sweep"],
                            env=_env(space, EPOCHS="12"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    killed_while_running = False
    try:
        while time.time() < deadline:
            time.sleep(0.1)
            assert proc.poll() is None, proc.stdout.read().decode()
            if not (out / "sweep.db").exists():
                continue
            try:
                trials = _states(storage)
            except Exception:  # the study is being created
                continue
            done = [t for t in trials if t.state.is_finished()]
            # kill mid-training: the running trial has started writing its run directory
            running = [t for t in trials if t.state == TrialState.RUNNING and "run_dir" in t.user_attrs
                       and (Path(t.user_attrs["run_dir"]) / "epochs.jsonl").exists()]
            if len(done) >= 2 and running:
                proc.send_signal(signal.SIGKILL)
                killed_while_running = True
                break
    finally:
        proc.kill()
        proc.wait()
    assert killed_while_running, "the sweep finished or stalled before it could be killed mid-trial"
    before = {t.number: (t.state, t.value, dict(t.params)) for t in _states(storage) if t.state.is_finished()}
    interrupted = [t for t in _states(storage) if t.state == TrialState.RUNNING]
    assert len(interrupted) == 1

    res = run_sweep(space, BASE.with_changes({"epochs": 12}), out_dir=out, sampler="random", n_trials=n_trials,
                    workers=1, progress=False, plots=False)
    after = {t.number: t for t in res.study.get_trials(deepcopy=False)}
    for number, (state, value, params) in before.items():  # finished trials are kept as they were
        assert after[number].state == state and after[number].value == value and after[number].params == params
    assert res.n_finished == n_trials
    lost = after[interrupted[0].number]
    assert lost.state == TrialState.FAIL and "interrupted" in lost.user_attrs["status"]
    assert debugkit.load_run(lost.user_attrs["run_dir"]).meta["status"] == "interrupted"
    retried = [t for t in after.values() if t.system_attrs.get("failed_trial") == lost.number]
    assert len(retried) == 1 and retried[0].params == lost.params and retried[0].state.is_finished()


def _find_initdb() -> str | None:
    found = shutil.which("initdb") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))), None)
    return found


@pytest.fixture
def postgres_url():
    pytest.importorskip("psycopg2", reason="psycopg2-binary is needed to talk to PostgreSQL")
    initdb = _find_initdb()
    if initdb is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    bindir = Path(initdb).resolve().parent
    # PostgreSQL refuses to run as root: use the postgres (or nobody) account then
    prefix: list[str] = []
    if os.geteuid() == 0:
        import pwd

        user = next((u for u in ("postgres", "nobody") if _has_user(pwd, u)), None)
        if user is None or shutil.which("runuser") is None:
            pytest.skip("running as root without a postgres/nobody user and runuser to start PostgreSQL")
        prefix = ["runuser", "-u", user, "--"]
    base = Path(tempfile.mkdtemp(prefix="debugkit-pg-"))
    os.chmod(base, 0o755)
    if prefix:
        shutil.chown(base, user=prefix[2])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = base / "data"
    try:
        subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                        "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-t", "60",
                        "-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
                       check=True, capture_output=True)
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def _has_user(pwd, name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def test_two_processes_share_one_postgres_study(tmp_path, postgres_url):
    n_trials = 6
    driver = _driver(tmp_path)
    procs = []
    for i in range(2):
        args = [sys.executable, str(driver), str(tmp_path / "out"), postgres_url, str(n_trials), "shared",
                str(tmp_path / f"ready{i}"), str(tmp_path / "go")]
        procs.append(subprocess.Popen(args, env=_env(EPOCHS="3"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    deadline = time.time() + 120
    while not all((tmp_path / f"ready{i}").exists() for i in range(2)):  # both imported torch: start together
        assert time.time() < deadline and all(p.poll() is None for p in procs)
        time.sleep(0.05)
    (tmp_path / "go").touch()
    outputs = [p.communicate(timeout=240)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs

    trials = _states(postgres_url, "shared")
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    # each process stops once the study holds n_trials finished trials; a trial already running in
    # the other process may still finish, so at most one more
    assert n_trials <= len(finished) <= n_trials + 1
    assert not [t for t in trials if t.state == TrialState.FAIL]
    assert len({t.user_attrs["pid"] for t in trials}) == 2  # both workers contributed trials
    numbers = sorted(t.number for t in trials)
    assert numbers == list(range(len(trials)))  # one study, one numbering
    stored = json.loads(json.dumps(optuna.load_study(study_name="shared", storage=postgres_url).user_attrs))
    assert stored["debugkit_sweep"]["sampler"] == "random"


def test_coarse_to_fine_narrows_the_space(tmp_path):
    from debugkit.study import run_coarse_to_fine

    space = {"lr": {"low": 1e-4, "high": 3.0, "log": True}, "batch_size": [16, 64, 256]}
    stages = run_coarse_to_fine(space, BASE, out_dir=tmp_path, stages=((1, 6), (2, 3)), keep=0.34, progress=False)
    assert len(stages) == 2 and (tmp_path / "stage-1" / "sweep.md").exists()
    first, second = stages
    top = first.trials[first.trials["state"] == "COMPLETE"].sort_values("value", ascending=False).head(3)
    lr2 = second.space["lr"]
    assert (lr2.low, lr2.high) == (pytest.approx(top["lr"].min()), pytest.approx(top["lr"].max()))
    assert lr2.high / lr2.low < 3.0 / 1e-4
    assert set(second.space["batch_size"].choices) == set(top["batch_size"])
    assert second.study.study_name == "coarse-to-fine-stage2"
    assert all(t.user_attrs["epochs"] <= 2 for t in second.study.trials)
    md = (tmp_path / "coarse_to_fine.md").read_text()
    assert "Stage 1: 1 epoch(s)" in md and "Stage 2: 2 epoch(s)" in md
