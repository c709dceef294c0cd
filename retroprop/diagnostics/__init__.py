"""Insight into a network: what flows forward and backward through each layer, and why it fails.

- :func:`diagnose`: one probed forward and backward pass and a health report that names the
  course's pathologies (vanishing or exploding gradient, dead or saturated units, non-finite
  values) with their remedies; ``report.plot()`` draws Glorot & Bengio's histograms.
- :class:`Diagnostics`: the same figures recorded during ``fit``, every N batches;
  :class:`LiveGradientFlow` also redraws them as bars in a notebook.
- :func:`glorot_bengio`, :func:`depth_experiment`: the course's experiments on gradient flow.
- :func:`explain`: one example's backward pass in the course's notation (z, a, delta, dJ/dW).
- :func:`to_dot`, :func:`render`: the computational graph behind a tensor, for Graphviz (drawn
  as SVG in Jupyter where Graphviz is installed).
- :func:`gradcheck_model`: every parameter's gradient against finite differences.
- :class:`Probe`: the hooks underneath, for your own measurements.

Nothing here imports matplotlib or scikit-learn until a figure or a data set is asked for.

Examples
--------
>>> from retroprop.diagnostics import diagnose
>>> _ = rp.manual_seed(0)
>>> X = np.random.default_rng(0).normal(size=(128, 8))
>>> layers = [nn.Linear(8, 16, init="standard"), nn.Sigmoid()]
>>> for _ in range(5):
...     layers += [nn.Linear(16, 16, init="standard"), nn.Sigmoid()]
>>> model = nn.Sequential(*layers, nn.Linear(16, 1))
>>> report = diagnose(model, X, X[:, 0], loss="mse")
>>> [problem.kind for problem in report.problems]
['vanishing_gradient']
"""

from retroprop.diagnostics.callback import Diagnostics, DiagnosticsWarning
from retroprop.diagnostics.experiments import ExperimentResult, depth_experiment, glorot_bengio
from retroprop.diagnostics.explain import Explanation, LayerTrace, explain
from retroprop.diagnostics.gradcheck_model import (
    GradcheckModelResult,
    GradcheckRow,
    gradcheck_model,
)
from retroprop.diagnostics.graph import DotGraph, render, to_dot
from retroprop.diagnostics.live import LiveGradientFlow
from retroprop.diagnostics.probes import Capture, LayerInfo, Probe, linear_layers
from retroprop.diagnostics.problems import REMEDIES, Problem, Thresholds, problems
from retroprop.diagnostics.report import DiagnosisReport, diagnose
from retroprop.diagnostics.stats import LayerStats

__all__ = [
    "Capture",
    "DiagnosisReport",
    "Diagnostics",
    "DiagnosticsWarning",
    "DotGraph",
    "ExperimentResult",
    "Explanation",
    "GradcheckModelResult",
    "GradcheckRow",
    "LayerInfo",
    "LayerStats",
    "LayerTrace",
    "LiveGradientFlow",
    "Probe",
    "Problem",
    "REMEDIES",
    "Thresholds",
    "depth_experiment",
    "diagnose",
    "explain",
    "glorot_bengio",
    "gradcheck_model",
    "linear_layers",
    "problems",
    "render",
    "to_dot",
]
