"""Everything instruments may use at one optimizer step, each ingredient computed once."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from debugkit.functional.grad_sample import GradSample, MicrobatchGrads, PerSampleGrads

if TYPE_CHECKING:  # pragma: no cover
    from debugkit.monitor import Monitor, _StepState


class IngredientUnavailable(RuntimeError):
    """An ingredient cannot be computed for this model/loop (the message says why)."""


class StepContext:
    """The view of one training step that instruments compute from.

    Attributes:
        step: 0-based optimizer step.
        params: Trainable parameters by full name (``features.0.weight``).
        layer_of: Parameter name → layer (module) name.
    """

    def __init__(self, monitor: "Monitor", step: int, state: "_StepState"):
        self.monitor = monitor
        self.step = step
        self.state = state
        self.model = monitor.model
        self.optimizer = monitor.optimizer
        self.params = monitor._params
        self.layer_of = monitor._layer_of
        self.scalars: dict[int, dict[str, Any]] = {}
        self.layer_values: list[tuple[int, str, dict]] = []
        self.hists: list[dict] = []
        self.events: list[tuple[str, str]] = []
        self._cache: dict[str, Any] = {}
        self.phase = "pre"

    # -- recording ---------------------------------------------------------------------
    def scalar(self, key: str, value: Any, step: int | None = None) -> None:
        s = self.step if step is None else step
        if isinstance(value, Tensor):
            value = value.item()
        self.scalars.setdefault(s, {})[key] = value

    def layer(self, quantity: str, values: dict[str, float], step: int | None = None) -> None:
        if values:
            self.layer_values.append((self.step if step is None else step, quantity, values))

    def hist(self, name: str, counts, edges, layer: str | None = None, step: int | None = None, **extra) -> None:
        self.hists.append(
            {"step": self.step if step is None else step, "name": name, "layer": layer, "counts": counts,
             "edges": edges, **extra}
        )

    def event(self, kind: str, message: str) -> None:
        self.events.append((kind, message))

    # -- basic ingredients ---------------------------------------------------------------
    @property
    def distributed(self) -> bool:
        return self.monitor._world > 1

    @property
    def loss(self) -> float | None:
        if "loss" not in self._cache:
            value = self.state.loss_value()
            if self.distributed:
                from debugkit.distributed import all_mean_float

                value = all_mean_float(value)
            self._cache["loss"] = value
        return self._cache["loss"]

    @property
    def batch_size(self) -> int:
        if self.distributed:
            from debugkit.distributed import all_sum_int

            return all_sum_int(self.state.batch_size())
        return self.state.batch_size()

    @property
    def lr(self) -> float | None:
        if self.optimizer is None or not self.optimizer.param_groups:
            return None
        lr = self.optimizer.param_groups[0].get("lr")
        return float(lr) if lr is not None else None

    def per_sample_losses(self) -> Tensor | None:
        """One loss per sample (exact), or per micro-batch chunk (then see ``loss_unit_size``)."""
        if "psl" not in self._cache:
            exact = self.exact_per_sample_losses()
            if exact is not None:
                self._cache["psl"] = (exact, 1)
            else:
                mb = self._microbatch()
                self._cache["psl"] = (mb[1], mb[0].unit_size) if mb is not None else (None, 1)
            if self.distributed:
                from debugkit.distributed import gather_cat

                self._cache["psl"] = (gather_cat(self._cache["psl"][0]), self._cache["psl"][1])
        return self._cache["psl"][0]

    def exact_per_sample_losses(self, gather: bool = False) -> Tensor | None:
        """Per-sample losses the loss module gave for free (no extra forward passes)."""
        used = self.state.used_micro()
        losses = [m.per_sample_loss for m in used if m.per_sample_loss is not None]
        out = torch.cat(losses) if losses and len(losses) == len(used) else None
        if gather and self.distributed:
            from debugkit.distributed import gather_cat

            out = gather_cat(out)
        return out

    @property
    def loss_unit_size(self) -> int:
        self.per_sample_losses()
        return self._cache["psl"][1]

    def grads(self) -> dict[str, Tensor]:
        """This step's batch gradient per parameter (``.grad`` minus anything accumulated before)."""
        if "grads" not in self._cache:
            before = self.state.grad_before
            out = {}
            for n, p in self.params.items():
                if p.grad is None:
                    continue
                g = p.grad.detach()
                if before is not None and n in before:
                    g = g - before[n]
                out[n] = g
            self._cache["grads"] = out
        return self._cache["grads"]

    def snapshot(self) -> dict[str, Tensor]:
        """Parameters θₜ before the optimizer step (needs ``SNAPSHOT``)."""
        if self.state.snapshot is None:
            raise IngredientUnavailable("no parameter snapshot was taken at this step")
        return self.state.snapshot

    # -- per-sample gradients ------------------------------------------------------------
    def grad_sample(self) -> GradSample:
        """Statistics of all per-sample gradients (exact if possible, else micro-batches)."""
        if "gs" not in self._cache:
            local = self._cache.get("gs_local") or self._exact(subset=False)
            if local is not None:
                self._cache["gs_local"] = local
            self._cache["gs"] = self._global(local or self._microbatch_sample())
        return self._cache["gs"]

    def grad_subsample(self) -> GradSample:
        """Per-sample gradients of a random subsample (cheap; for variances, e.g. in α)."""
        if "gss" not in self._cache:
            from debugkit.instruments.base import GRAD_SAMPLE

            full = self._exact(subset=False) if GRAD_SAMPLE in self.state.needs else None
            if full is not None:  # all samples are needed anyway: reuse their per-sample gradients
                self._cache.setdefault("gs_local", full)
                sub = self._cache["gs_local"].subset([m.sub_idx for m in self.state.used_micro()])
            else:
                sub = self._exact(subset=True)
            self._cache["gss"] = self._global(sub) if sub is not None else self.grad_sample()
        return self._cache["gss"]

    def _global(self, sample: GradSample) -> GradSample:
        if not self.distributed:
            return sample
        from debugkit.distributed import GlobalSample

        return GlobalSample(sample)

    def _exact(self, subset: bool) -> PerSampleGrads | None:
        st = self.state
        if not st.exact_ok or not st.micro:
            return None
        micro = []
        for m in st.used_micro():
            records = m.sub_records if subset else m.records
            if subset and records is None and m.records is not None:
                records = {k: r.select(m.sub_idx) for k, r in m.records.items()}
            if records is None:
                return None
            usable = []
            for r in records.values():
                if r.complete:
                    usable.append(r)
                elif any(c.delta is not None for c in r.captures) or any(
                    p.grad is not None for _, p in r.module.named_parameters(recurse=False)
                ):
                    return None  # a layer saw backward only partly: per-sample factors are incomplete
                # else: the layer was cut off the graph (detached); it has no gradient to describe
            kept = m.sub_size if subset else m.size
            micro.append((usable, kept))
        scale = self.monitor._unit_scale(st)
        return PerSampleGrads(micro, scale=scale, batch_size=st.batch_size())

    def _microbatch_sample(self) -> MicrobatchGrads:
        mb = self._microbatch()
        if mb is None:
            raise IngredientUnavailable(self.monitor._recompute_problem or "per-sample gradients unavailable")
        return mb[0]

    def _microbatch(self) -> tuple[MicrobatchGrads, Tensor] | None:
        if "mb" not in self._cache:
            self._cache["mb"] = self.monitor._microbatch_grads(self.state) if self.phase == "pre" else None
        return self._cache["mb"]

    # -- statistics of the units, shared by the noise instruments ---------------------------
    def batch_grad_sq(self, names) -> float:
        grads = self.grads()
        return sum(torch.linalg.vector_norm(grads[n], dtype=torch.float64).item() ** 2 for n in names if n in grads)

    def unit_sq_norms(self) -> Tensor:
        if "sq" not in self._cache:
            self._cache["sq"] = self.grad_sample().sq_norms().double()
        return self._cache["sq"]

    def unit_proj_g(self) -> Tensor:
        """``⟨u_k, g⟩`` for every unit."""
        if "pg" not in self._cache:
            sample = self.grad_sample()
            grads = self.grads()
            self._cache["pg"] = sample.dots([{n: grads[n] for n in sample.names}])[:, 0].double()
        return self._cache["pg"]

    def unit_variance(self) -> dict[str, Tensor]:
        """Unbiased per-element variance of per-sample gradients, per parameter."""
        if "var" not in self._cache:
            from debugkit.functional.noise import elementwise_variance

            sample = self.grad_sample()
            grads = self.grads()
            ss = sample.sum_sq()
            self._cache["var"] = {
                n: elementwise_variance(ss[n], grads[n], sample.n, sample.unit_size) for n in sample.names if n in ss
            }
        return self._cache["var"]

    # -- second order --------------------------------------------------------------------
    def hvp(self):
        """``(hvp_fn, names, params)`` for Hessian-vector products of the loss at θₜ."""
        if "hvp" not in self._cache:
            if self.phase != "pre":
                raise IngredientUnavailable("Hessian-vector products need the pre-step phase")
            hvp, names, params = self.monitor._make_hvp(self.state)
            if self.distributed:
                from debugkit.distributed import averaged_hvp

                hvp = averaged_hvp(hvp)
            self._cache["hvp"] = (hvp, names, params)
        return self._cache["hvp"]

    # -- helpers -------------------------------------------------------------------------
    def group_by_layer(self, per_param: dict[str, float], how: str = "norm") -> dict[str, float]:
        """Combine per-parameter squared values into per-layer values (``norm`` takes sqrt of sum)."""
        acc: dict[str, float] = {}
        for n, v in per_param.items():
            layer = self.layer_of.get(n, n)
            acc[layer] = acc.get(layer, 0.0) + v
        if how == "norm":
            return {k: math.sqrt(v) for k, v in acc.items()}
        return acc
