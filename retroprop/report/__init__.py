"""The self-contained HTML training report (figures drawn with matplotlib, imported lazily).

A page shell around a list of panels, each drawn from one :class:`RunRecord`.

>>> from retroprop.report import build_report
>>> callable(build_report)
True
"""

from retroprop.report.html import build_report
from retroprop.report.record import Evaluation, RunRecord

__all__ = ["Evaluation", "RunRecord", "build_report"]
