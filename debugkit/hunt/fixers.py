"""Source-level experiments: edit a copy of a training script the way a person would.

Each finding type names an ``experiment`` action (see
:data:`debugkit.diagnose.findings.FINDING_TYPES`); :data:`FIXERS` maps the action to a
function ``(source, finding) -> new source | None``.  The functions recognise the usual
ways training scripts are written (an ``lr=`` keyword, ``DataLoader(..., shuffle=...)``,
``nn.Softmax`` at the end of a ``Sequential``, ...).  ``None`` means "no automatic
experiment for this script": the hunt then records the suggestion without running one.
"""

from __future__ import annotations

import re
from typing import Callable

from debugkit.diagnose.findings import Finding

Fixer = Callable[[str, Finding], "str | None"]
FIXERS: dict[str, Fixer] = {}

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def fixer(action: str):
    def deco(fn):
        FIXERS[action] = fn
        return fn

    return deco


def apply_experiment(source: str, finding: Finding) -> str | None:
    """The edited source for ``finding``'s experiment, or None if it cannot be applied."""
    action = (finding.experiment or {}).get("action")
    fn = FIXERS.get(action) if action else None
    if fn is None:
        return None
    new = fn(source, finding)
    return new if new is not None and new != source else None


# ----------------------------------------------------------------------------- helpers
def _fmt(x: float) -> str:
    """A short literal for a number (0.005, 1e-05, 3.0)."""
    if x == 0:
        return "0.0"
    if 1e-3 <= abs(x) < 1e4:
        s = f"{x:.4g}"
        return s if any(c in s for c in ".e") else s + ".0"
    return f"{x:.0e}".replace("e-0", "e-").replace("e+0", "e+")


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _set_keyword_number(source: str, keyword: str, transform: Callable[[float], float],
                        line_filter: Callable[[str], bool] = lambda l: True) -> str | None:
    """Change ``keyword=<number>`` (or ``keyword=<name>`` whose number is defined elsewhere)."""
    lines = source.splitlines(keepends=True)
    pat = re.compile(rf"(\b{keyword}\s*=\s*)({_NUM})")
    for i, line in enumerate(lines):
        if line.lstrip().startswith("#") or not line_filter(line):
            continue
        m = pat.search(line)
        if m:
            new_val = _fmt(transform(float(m.group(2))))
            lines[i] = line[: m.start(2)] + new_val + line[m.end(2):]
            return "".join(lines)
    # keyword=<name>: follow the name to its definition (NAME = 0.1, or argparse default=0.1)
    name_pat = re.compile(rf"\b{keyword}\s*=\s*([A-Za-z_][\w.]*)")
    for line in lines:
        if not line_filter(line):
            continue
        m = name_pat.search(line)
        if not m:
            continue
        name = m.group(1).split(".")[-1]
        defs = [re.compile(rf"^(\s*{re.escape(name)}\s*=\s*)({_NUM})\s*(#.*)?$"),
                re.compile(rf"(add_argument\(\s*['\"]--{re.escape(name).replace('_', '[-_]')}['\"].*?default\s*=\s*)({_NUM})")]
        for j, l2 in enumerate(lines):
            for d in defs:
                m2 = d.search(l2)
                if m2:
                    lines[j] = l2[: m2.start(2)] + _fmt(transform(float(m2.group(2)))) + l2[m2.end(2):]
                    return "".join(lines)
    return None


def _is_optimizer_line(line: str) -> bool:
    return bool(re.search(r"optim\.\w+\(|\b(SGD|Adam|AdamW|RMSprop|Adagrad)\(", line))


def _optimizer_block(source: str) -> Callable[[str], bool]:
    """Lines belonging to optimizer constructor calls (they may span several lines)."""
    lines = source.splitlines(keepends=True)
    inside: set[str] = set()
    depth = 0
    for line in lines:
        if depth == 0 and _is_optimizer_line(line):
            depth = line.count("(") - line.count(")")
            inside.add(line)
            continue
        if depth > 0:
            inside.add(line)
            depth += line.count("(") - line.count(")")
    return lambda l: l in inside


# ----------------------------------------------------------------------------- optimisation
@fixer("scale_lr")
def scale_lr(source: str, finding: Finding) -> str | None:
    factor = float(finding.experiment.get("factor", 0.1))
    return _set_keyword_number(source, "lr", lambda v: v * factor, _optimizer_block(source)) or \
        _set_keyword_number(source, "lr", lambda v: v * factor)


@fixer("scale_weight_decay")
def scale_weight_decay(source: str, finding: Finding) -> str | None:
    factor = float(finding.experiment.get("factor", 0.01))
    return _set_keyword_number(source, "weight_decay", lambda v: v * factor)


@fixer("relax_clipping")
def relax_clipping(source: str, finding: Finding) -> str | None:
    total = float(finding.evidence.get("total") or 1.0)
    target = float(f"{max(1.0, 2 * total):.2g}")
    lines = source.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if "clip_grad_norm" not in line or line.lstrip().startswith("#"):
            continue
        m = re.search(rf"(max_norm\s*=\s*)({_NUM})", line) or re.search(rf"(clip_grad_norm_?\([^,]+,\s*)({_NUM})", line)
        if m:
            lines[i] = line[: m.start(2)] + _fmt(target) + line[m.end(2):]
            return "".join(lines)
    return None


@fixer("fix_lr_schedule")
def fix_lr_schedule(source: str, finding: Finding) -> str | None:
    def invert(g: float) -> float:
        return 1.0 / g if g > 1 else g

    new = _set_keyword_number(source, "gamma", invert)
    if new is not None:
        return new
    # LambdaLR(lambda step: 1.05 ** step) and similar: invert the growth factor
    m = re.search(rf"({_NUM})\s*\*\*\s*\(?\s*(?:step|epoch|e|s|i|t)\b", source)
    if m and float(m.group(1)) > 1:
        return source[: m.start(1)] + _fmt(1.0 / float(m.group(1))) + source[m.end(1):]
    return None


# ----------------------------------------------------------------------------- loop and model
def _loop_bounds(lines: list[str], i: int) -> int | None:
    """Index of the ``for`` line enclosing line ``i`` (by indentation)."""
    ind = len(_indent(lines[i]))
    for j in range(i - 1, -1, -1):
        s = lines[j].strip()
        if not s or s.startswith("#"):
            continue
        if len(_indent(lines[j])) < ind and s.startswith("for "):
            return j
        if len(_indent(lines[j])) < ind and not s.startswith(("with ", "if ", "try", "else", "elif")):
            ind = len(_indent(lines[j]))
    return None


@fixer("add_zero_grad")
def add_zero_grad(source: str, finding: Finding) -> str | None:
    lines = source.splitlines(keepends=True)
    m = re.search(r"(\w+)\.step\(\)", "".join(l for l in lines if "scheduler" not in l and "sched" not in l))
    opt = m.group(1) if m else "optimizer"
    for i, line in enumerate(lines):
        if ".backward(" not in line or line.lstrip().startswith("#"):
            continue
        top = _loop_bounds(lines, i)
        body = lines[(top + 1 if top is not None else 0): i]
        if any("zero_grad" in l and not l.lstrip().startswith("#") for l in body):
            return None
        # insert before the forward pass of this iteration: the first statement in the loop body
        at = top + 1 if top is not None else i
        while at < i and (not lines[at].strip() or lines[at].lstrip().startswith("#")):
            at += 1
        lines.insert(at, f"{_indent(lines[at])}{opt}.zero_grad()\n")
        return "".join(lines)
    return None


@fixer("remove_softmax")
def remove_softmax(source: str, finding: Finding) -> str | None:
    lines = source.splitlines(keepends=True)
    for i, line in enumerate(lines):
        s = line.strip()
        if re.fullmatch(r"nn\.(Log)?Softmax\([^)]*\),?", s):
            del lines[i]
            prev = i - 1
            while prev >= 0 and not lines[prev].strip():
                prev -= 1
            return "".join(lines)
        m = re.search(r",\s*nn\.Softmax\([^)]*\)", line)
        if m:
            lines[i] = line[: m.start()] + line[m.end():]
            return "".join(lines)
        m = re.search(r"(?:F|torch|nn\.functional)\.softmax\(\s*([^,()]+(?:\([^()]*\))?)\s*,\s*(?:dim\s*=\s*)?-?\d\s*\)", line)
        if m and ("return" in line or "=" in line):
            lines[i] = line[: m.start()] + m.group(1) + line[m.end():]
            return "".join(lines)
    return None


@fixer("train_mode")
def train_mode(source: str, finding: Finding) -> str | None:
    lines = source.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if ".backward(" not in line:
            continue
        batch_loop = _loop_bounds(lines, i)
        if batch_loop is None:
            return None
        # model.eval() right before the batch loop (or inside it) → model.train()
        for j in range(batch_loop - 1, max(batch_loop - 6, -1), -1):
            if re.search(r"\bmodel\.eval\(\)", lines[j]):
                lines[j] = lines[j].replace("model.eval()", "model.train()")
                return "".join(lines)
        for j in range(batch_loop + 1, i):
            if re.search(r"\bmodel\.eval\(\)", lines[j]):
                lines[j] = lines[j].replace("model.eval()", "model.train()")
                return "".join(lines)
        if not any("model.train()" in l for l in lines[max(batch_loop - 6, 0):batch_loop]):
            lines.insert(batch_loop, f"{_indent(lines[batch_loop])}model.train()\n")
            return "".join(lines)
        break
    # evaluation in train mode: add model.eval() before `with torch.no_grad():` blocks that lack it
    for i, line in enumerate(lines):
        if "torch.no_grad()" in line and not any("model.eval()" in l for l in lines[max(i - 3, 0):i]):
            lines.insert(i, f"{_indent(line)}model.eval()\n")
            return "".join(lines)
    return None


@fixer("remove_detach")
def remove_detach(source: str, finding: Finding) -> str | None:
    lines = source.splitlines(keepends=True)
    in_forward, fwd_indent = False, 0
    for i, line in enumerate(lines):
        if re.match(r"\s*def forward\(", line):
            in_forward, fwd_indent = True, len(_indent(line))
            continue
        if in_forward and line.strip() and len(_indent(line)) <= fwd_indent:
            in_forward = False
        if in_forward and (".detach()" in line or re.search(r"\.data\b", line)):
            lines[i] = line.replace(".detach()", "")
            lines[i] = re.sub(r"\.data\b", "", lines[i])
            return "".join(lines)
    return None


@fixer("optimize_all_params")
def optimize_all_params(source: str, finding: Finding) -> str | None:
    lines = source.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if re.search(r"requires_grad(_\(\s*False\s*\)|\s*=\s*False)", line) and not line.lstrip().startswith("#"):
            block_header = i > 0 and lines[i - 1].rstrip().endswith(":") and lines[i - 1].lstrip().startswith("for ")
            if block_header and (i + 1 >= len(lines) or len(_indent(lines[i + 1])) < len(_indent(line))):
                del lines[i - 1: i + 1]
            else:
                del lines[i]
            return "".join(lines)
    opt_line = _optimizer_block(source)
    for i, line in enumerate(lines):
        if not opt_line(line):
            continue
        m = re.search(r"(\(\s*)((?:list\()?\s*(?:\w+)(?:\.\w+|\[\d+\])+\.parameters\(\)\)?)", line)
        if m and not re.fullmatch(r"\s*model\.parameters\(\)\s*", m.group(2)):
            lines[i] = line[: m.start(2)] + "model.parameters()" + line[m.end(2):]
            return "".join(lines)
        m = re.search(r"(\(\s*)(\[[^\]]*\.parameters\(\)[^\]]*\])", line)
        if m:
            lines[i] = line[: m.start(2)] + "model.parameters()" + line[m.end(2):]
            return "".join(lines)
    # a list of parameter groups spanning several lines: optimise every parameter instead
    text = "".join(lines)
    for m in re.finditer(r"(?:optim\.\w+|SGD|Adam|AdamW)\(\s*\[", text):
        start = m.end() - 1
        depth, j = 0, start
        while j < len(text):
            depth += {"[": 1, "]": -1}.get(text[j], 0)
            if depth == 0:
                break
            j += 1
        group = text[start:j + 1]
        if ".parameters()" not in group:
            continue
        base = re.search(r"(\w+)(?:\[\d+\]|\.\w+)*\.parameters\(\)", group)
        return text[:start] + f"{base.group(1) if base else 'model'}.parameters()" + text[j + 1:]
    return None


_INIT_CALL = re.compile(r"(nn\.init\.\w+|\.(normal_|uniform_|fill_|zero_|constant_)\(|\.data\s*=|\.data\.(normal_|uniform_|fill_|zero_|mul_)\()")


@fixer("default_init")
def default_init(source: str, finding: Finding) -> str | None:
    """Remove custom initialisation statements (keep PyTorch's default, a scaled init)."""
    lines = source.splitlines(keepends=True)
    hits = [i for i, l in enumerate(lines) if _INIT_CALL.search(l) and not l.lstrip().startswith("#")
            and ("weight" in l or "bias" in l or "nn.init" in l or "param" in l)]
    if not hits:
        return None
    drop = set(hits)
    # drop headers (for/with/if) whose whole body would be gone
    changed = True
    while changed:
        changed = False
        for i, l in enumerate(lines):
            if i in drop or not l.rstrip().endswith(":") or not l.strip():
                continue
            ind = len(_indent(l))
            body = []
            for j in range(i + 1, len(lines)):
                if lines[j].strip() and len(_indent(lines[j])) <= ind:
                    break
                if lines[j].strip():
                    body.append(j)
            if body and all(j in drop for j in body):
                drop.add(i)
                changed = True
    # a function whose body is gone: drop calls to it as well
    for i in sorted(drop):
        m = re.match(r"\s*def (\w+)\(", lines[i])
        if m:
            drop |= {j for j, l in enumerate(lines) if re.search(rf"\b{m.group(1)}\b", l) and j not in drop}
    return "".join(l for i, l in enumerate(lines) if i not in drop)


# ----------------------------------------------------------------------------- data
@fixer("shuffle_data")
def shuffle_data(source: str, finding: Finding) -> str | None:
    lines = source.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if "DataLoader(" in line and "train" in line and "shuffle=False" in line:
            lines[i] = line.replace("shuffle=False", "shuffle=True")
            return "".join(lines)
    for i, line in enumerate(lines):
        if "DataLoader(" in line and "train" in line and "shuffle" not in line:
            lines[i] = re.sub(r"\)\s*$", ", shuffle=True)\n", line.rstrip("\n")) if line.rstrip().endswith(")") else line
            if lines[i] != line:
                return "".join(lines)
    return None


@fixer("normalize_inputs")
def normalize_inputs(source: str, finding: Finding) -> str | None:
    """Standardise with training statistics right after the last assignment of the split."""
    lines = source.splitlines(keepends=True)
    names = {}
    for key in ("train", "val", "test"):
        m = re.search(rf"^\s*(X_?{key}\w*)\s*(?:,\s*\w+\s*)?=", source, re.M | re.I)
        if m:
            names[key] = m.group(1)
    if "train" not in names:
        return None
    last = max(i for i, l in enumerate(lines)
               if any(re.match(rf"\s*{re.escape(n)}\b.*=", l) for n in names.values()) and "torch.tensor" not in l)
    ind = _indent(lines[last])
    tr = names["train"]
    add = [f"{ind}mean, std = {tr}.mean(), {tr}.std()\n"]
    for n in names.values():
        add.append(f"{ind}{n} = ({n} - mean) / std\n")
    return "".join(lines[: last + 1] + add + lines[last + 1:])


@fixer("train_stat_normalization")
def train_stat_normalization(source: str, finding: Finding) -> str | None:
    """Evaluation data standardised with their own statistics → the training statistics."""
    stats = re.search(r"^\s*(\w+)\s*,\s*(\w+)\s*=\s*X_?train\w*\.mean\([^)]*\)\s*,\s*X_?train\w*\.std\(",
                      source, re.M | re.I)
    own = re.search(r"^(\s*)(\w+)\s*=\s*\(\s*\2\s*-\s*\2\.mean\([^)]*\)\s*\)\s*/\s*\(?\s*\2\.std\([^)]*\)\s*\)?[^\n]*$",
                    source, re.M)
    if stats and own and "train" not in own.group(2).lower():
        line = f"{own.group(1)}{own.group(2)} = ({own.group(2)} - {stats.group(1)}) / {stats.group(2)}"
        return source[: own.start()] + line + source[own.end():]
    m = re.search(r"^(\s*)(X_?val\w*)\s*=\s*\(\s*\2\s*-\s*\2\.mean\(([^)]*)\)\s*\)\s*/\s*\(?\s*\2\.std\(([^)]*)\)([^\n]*)$",
                  source, re.M | re.I)
    if not m:
        return None
    tr = re.search(r"^\s*(X_?train\w*)\s*=\s*\(\s*\1\s*-\s*(\w+)\s*\)\s*/\s*\(?\s*(\w+)", source, re.M | re.I)
    if tr:
        mean, std = tr.group(2), tr.group(3)
        line = f"{m.group(1)}{m.group(2)} = ({m.group(2)} - {mean}) / {std}"
        return source[: m.start()] + line + source[m.end():]
    return None


@fixer("separate_validation")
def separate_validation(source: str, finding: Finding) -> str | None:
    """Validation indices taken from the training indices → take them from the held-out rest."""
    lines = source.splitlines(keepends=True)
    # train_idx = perm[360:] overlapping val_idx = perm[360:720]: drop the validation indices from training
    tr = next((i for i, l in enumerate(lines) if re.match(r"^\s*train\w*idx\w*\s*=", l)), None)
    va = next((i for i, l in enumerate(lines) if re.match(r"^\s*val\w*idx\w*\s*=", l)), None)
    if tr is not None and va is not None and not re.search(r"\b(isin|setdiff1d)\(", source):
        tname = re.match(r"^\s*(\w+)", lines[tr]).group(1)
        vname = re.match(r"^\s*(\w+)", lines[va]).group(1)
        at = max(tr, va)
        isin = "np.isin" if re.search(r"^import numpy as np", source, re.M) else "torch.isin"
        lines.insert(at + 1, f"{_indent(lines[at])}{tname} = {tname}[~{isin}({tname}, {vname})]\n")
        return "".join(lines)
    for i, line in enumerate(lines):
        m = re.match(r"^(\s*)(val\w*)\s*=\s*(train\w*)\[([^\]]*)\]\s*$", line)
        if m:
            # val_idx = train_idx[:360]  →  split the held-out part instead: move these out of training
            ind, val, train, sl = m.groups()
            lines[i] = f"{ind}{val} = {train}[{sl}]\n{ind}{train} = {train}[~np.isin({train}, {val})]\n"
            return "".join(lines)
    return None


@fixer("weaken_augmentation")
def weaken_augmentation(source: str, finding: Finding) -> str | None:
    m = re.search(rf"(RandomRotation\(\s*(?:degrees\s*=\s*)?)(\(\s*{_NUM}\s*,\s*{_NUM}\s*\)|{_NUM})", source)
    if m:
        return source[: m.start(2)] + "15" + source[m.end(2):]
    for line in source.splitlines(keepends=True):
        if "rotat" not in line.lower():
            continue
        m = re.search(rf"((?:degrees|angles?|max_angle)\s*=\s*)\(\s*({_NUM})\s*,\s*({_NUM})\s*\)", line)
        if m and float(m.group(3)) - float(m.group(2)) > 60:
            new = line[: m.start()] + m.group(1) + "(-15, 15)" + line[m.end():]
            return source.replace(line, new, 1)
    m = re.search(rf"(rotat\w*\([^)]*?(?:degrees|angle|max_angle)\s*=\s*)({_NUM})", source)
    if m and float(m.group(2)) > 30:
        return source[: m.start(2)] + "15" + source[m.end(2):]
    m = re.search(rf"(uniform_?\(\s*)({_NUM})(\s*,\s*)({_NUM})(\s*\))", source)
    if m and float(m.group(4)) - float(m.group(2)) >= 90:
        return source[: m.start(2)] + "-15" + m.group(3) + "15" + source[m.end(4):]
    return None


@fixer("align_labels")
def align_labels(source: str, finding: Finding) -> str | None:
    """Inputs and labels shuffled separately → one shared permutation."""
    lines = source.splitlines(keepends=True)
    shuffles = [(i, m.group(1)) for i, l in enumerate(lines)
                for m in [re.match(r"^\s*(?:np\.random|random|rng)\.shuffle\(\s*(\w+)\s*\)", l)] if m]
    xs = [(i, n) for i, n in shuffles if re.match(r"x", n, re.I)]
    ys = [(i, n) for i, n in shuffles if re.match(r"(y|label|target)", n, re.I)]
    if xs and ys:
        (ix, nx), (iy, ny) = xs[0], ys[0]
        ind = _indent(lines[ix])
        new = [f"{ind}order = np.random.permutation(len({nx}))\n", f"{ind}{nx}, {ny} = {nx}[order], {ny}[order]\n"]
        out = [l for k, l in enumerate(lines) if k not in (ix, iy)]
        out[min(ix, iy):min(ix, iy)] = new
        return "".join(out)
    # a shuffle of the labels alone (no shuffle of the inputs): remove it
    if ys and not xs:
        del lines[ys[0][0]]
        return "".join(lines)
    return None
