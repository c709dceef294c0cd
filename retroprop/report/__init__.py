"""The self-contained HTML training report (charts as inline SVG; matplotlib only for the
decision boundary of 2-D data, imported then).

A page shell around a list of panels, each drawn from one :class:`RunRecord`.

>>> from retroprop.report import build_report
>>> callable(build_report)
True
"""

from retroprop.report.html import build_report
from retroprop.report.record import Evaluation, RunRecord

__all__ = ["Evaluation", "RunRecord", "build_report"]
