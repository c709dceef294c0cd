"""The self-contained HTML training report (figures drawn with matplotlib, imported lazily).

>>> from retroprop.report import build_report
>>> callable(build_report)
True
"""

from retroprop.report.html import Evaluation, build_report

__all__ = ["Evaluation", "build_report"]
