"""Rich displays for Jupyter: HTML tables, inline SVG charts, live redraws.

One home for the HTML and SVG bits every ``_repr_html_`` of retroprop uses (a model, a
``History``, a diagnosis, a backprop trace) and for the live plots of training:

- :mod:`retroprop.display.html`: the style sheet, number formatting, tables, the panel;
- :mod:`retroprop.display.svg`: the SVG pieces (text, ticks, frame, lines, legend);
- :mod:`retroprop.display.charts`: line, scatter and bar charts and heatmaps, as inline SVG,
  for the notebook, the HTML report and the playground alike;
- :mod:`retroprop.display.network`: the network drawing (units, weights, captions);
- :mod:`retroprop.display.live`: :class:`LiveDisplay`, an output redrawn in place.
- :mod:`retroprop.display.model`: a model's summary table and drawing.

Everything is self-contained (no script, no outside URL), escaped, and reads on light and dark
notebook themes. It depends on NumPy only; IPython is imported when a live display starts.
"""

from retroprop.display.charts import Series, bar_chart, line_chart
from retroprop.display.html import (
    STYLE,
    escape,
    format_array,
    format_number,
    matrix,
    panel,
    table,
)
from retroprop.display.live import LiveDisplay, LivePlotWarning, in_notebook
from retroprop.display.network import network_svg

__all__ = [
    "STYLE",
    "LiveDisplay",
    "Series",
    "LivePlotWarning",
    "bar_chart",
    "escape",
    "format_array",
    "format_number",
    "in_notebook",
    "line_chart",
    "matrix",
    "network_svg",
    "panel",
    "table",
]
