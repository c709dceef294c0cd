"""A command-line model as one ONNX graph: raw table columns in, labels and probabilities out.

``retroprop export`` writes what ``retroprop predict`` does, as a graph any ONNX runtime runs:

==================  ========================================================================
step                ONNX operators (``ai.onnx.ml`` for the ML ones)
==================  ========================================================================
numeric column      tensor(float) [N, 1]; inf -> NaN (``IsInf``, ``Where``: predict reads a
                    non-finite number as missing); ``Imputer`` (NaN -> training median);
                    ``IsNaN`` + ``Cast`` (the missing indicator, when the column has one);
                    ``Clip`` to the training range; ``Scaler`` ((x - mean) / scale)
categorical column  tensor(string) [N, 1]; ``LabelEncoder`` string -> string: each training
                    category to itself, each missing marker (any case) to ``"(missing)"``,
                    anything else to ``""`` (no category); ``OneHotEncoder`` (zeros=1: an
                    unseen value is all zeros, as predict encodes it)
boolean column      tensor(string) [N, 1]; ``LabelEncoder``: true/yes/t/y/1 (any case) ->
                    ``"True"``, false/no/f/n/0 -> ``"False"``, missing markers ->
                    ``"(missing)"``; then ``OneHotEncoder`` as a categorical column
features            ``Concat`` in the model's feature order (``Cast`` to float64 for a float64
                    network), then the network (:func:`retroprop.onnx._modules.module_nodes`)
classification      the network's logits in float64: ``Sigmoid`` (binary) or ``Softmax``;
                    ``probabilities`` (float32, [N, classes]); the class index (binary: the
                    positive class when its probability >= the saved ``--threshold``, else
                    ``ArgMax``), ``LabelEncoder`` int64 -> class name: ``label`` ([N] strings)
regression          ``variable`` (float32, [N, 1]): the output times the target's scale plus
                    its mean, in float64
==================  ========================================================================

The output names are skl2onnx's (``label``, ``probabilities``, ``variable``; probabilities as
one tensor, like skl2onnx's ``zipmap=False``). Each input is named after its CSV column, as it
is; a column named like an output, or like the network's internal names (``network/...``), is
renamed ``<column>_input``. Identifier and excluded columns are not inputs. The mapping is in
the model's metadata (key ``"retroprop.inputs"``: column -> input name and kind).

Where the graph differs from ``predict``: strings are compared as given (ONNX has no operator
that strips surrounding spaces; ``predict`` strips them), and a value ``predict`` refuses (a
word in a boolean column) gives no category (all zeros) rather than an error.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from retroprop.onnx._export import BATCH
from retroprop.onnx._graph import DEFAULT_OPSET
from retroprop.onnx._modules import module_nodes

__all__ = ["table_model", "input_names", "OUTPUT_NAMES", "ML_OPSET"]

ML_DOMAIN = "ai.onnx.ml"
ML_OPSET = 3  # LabelEncoder string <-> string/int64, Imputer, Scaler, OneHotEncoder
OUTPUT_NAMES = ("label", "probabilities", "variable")
NETWORK_PREFIX = "network/"
NO_CATEGORY = ""  # never a category: "" is a missing marker


def _spellings(word: str) -> list[str]:
    """Every upper/lower-case spelling of ``word``, as ``str.lower`` folds them.

    Examples
    --------
    >>> _spellings("n/a")
    ['n/a', 'n/A', 'N/a', 'N/A']
    """
    options = [(c.lower(), c.upper()) if c.lower() != c.upper() else (c,) for c in word]
    return ["".join(letters) for letters in itertools.product(*options)]


def input_names(columns: list[str]) -> dict[str, str]:
    """Each column's ONNX input name: the column's own name, unless it is an output's name,
    starts like the network's internal names, or is empty (ONNX has no empty input name;
    a Parquet file may have such a column): then ``<column>_input``, made unique.

    Examples
    --------
    >>> input_names(["age", "label", "network/x", ""])
    {'age': 'age', 'label': 'label_input', 'network/x': 'network/x_input', '': '_input'}
    """
    taken = set(columns) | set(OUTPUT_NAMES)
    names = {}
    for column in columns:
        name = column
        if column in OUTPUT_NAMES or column.startswith(NETWORK_PREFIX) or not column:
            name = f"{column}_input"
            while name in taken:
                name += "_"
            taken.add(name)
        names[column] = name
    return names


@dataclass
class _Graph:
    """The nodes and constants being built, and every value name in use (names stay unique)."""

    used: set[str]
    nodes: list[Any] = field(default_factory=list)
    initializers: list[Any] = field(default_factory=list)
    shared: dict[str, str] = field(default_factory=dict)

    def fresh(self, base: str) -> str:
        """``base``, or ``base_2``, ``base_3``...: a name no value has yet (and not one of the
        network's: a base starting like them, from a column ``network/x``, gets a ``_``)."""
        if base.startswith(NETWORK_PREFIX):
            base = f"_{base}"
        name, k = base, 1
        while name in self.used or name.startswith(NETWORK_PREFIX):
            k += 1
            name = f"{base}_{k}"
        self.used.add(name)
        return name

    def add(
        self, op: str, inputs: list[str], base: str, output: str | None = None, **attributes: Any
    ) -> str:
        """One node whose output is ``output`` (or a fresh name from ``base``); that name.

        ``domain`` among ``attributes`` is the operator's domain (default: ONNX's own).
        """
        output = output or self.fresh(base)
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attributes))
        return output

    def constant(self, base: str, values: Any, dtype: Any = np.float32) -> str:
        """An initializer holding ``values``; the same ``base`` and values give the same one."""
        array = np.asarray(values, dtype=dtype)
        key = f"{base}|{array.dtype}|{array.shape}|{array.tolist()}"
        if key not in self.shared:
            self.shared[key] = self.fresh(base)
            self.initializers.append(numpy_helper.from_array(array, self.shared[key]))
        return self.shared[key]


def _kind(preprocessing: Any, column: str) -> str:
    if preprocessing.schema is not None:
        return preprocessing.schema.kind(column)
    return "numeric" if column in preprocessing.numeric else "categorical"  # before schemas


def _numeric_features(graph: _Graph, name: str, column: str, prep: Any) -> list[str]:
    """[scaled value] or [scaled value, missing indicator] of one numeric column."""
    nan = graph.constant("nan", np.nan)
    value = graph.add(
        "Where", [graph.add("IsInf", [name], f"{column}/is_inf"), nan, name], f"{column}/finite"
    )
    filled = value
    if column in prep.medians:
        filled = graph.add(
            "Imputer",
            [value],
            f"{column}/imputed",
            domain=ML_DOMAIN,
            imputed_value_floats=[prep.medians[column]],
            replaced_value_float=float("nan"),
        )
    # float64 from here, as predict computes: Scaler's offset is a float32 attribute, and
    # x - mean in float32 loses digits when the mean is large against the scale (a year)
    filled = graph.add("Cast", [filled], f"{column}/float64", to=TensorProto.DOUBLE)
    if column in prep.ranges:
        low, high = prep.ranges[column]
        filled = graph.add(
            "Clip",
            [
                filled,
                graph.constant(f"{column}/min", low, np.float64),
                graph.constant(f"{column}/max", high, np.float64),
            ],
            f"{column}/clipped",
        )
    mean, scale = prep.numeric[column]
    centered = graph.add(
        "Sub", [filled, graph.constant(f"{column}/mean", mean, np.float64)], f"{column}/centered"
    )
    features = [
        graph.add(
            "Scaler",
            [centered],
            f"{column}/scaled",
            domain=ML_DOMAIN,
            offset=[0.0],
            scale=[1.0 / scale],
        )
    ]
    if column in prep.indicators:
        gaps = graph.add("IsNaN", [value], f"{column}/is_missing")
        features.append(graph.add("Cast", [gaps], f"{column}/missing", to=TensorProto.FLOAT))
    return features


def _category_table(kind: str, categories: list[str]) -> dict[str, str]:
    """Raw spelling -> the category it is encoded as (anything else: no category)."""
    from retroprop.cli.schema import FALSE_WORDS, MISSING_MARKERS, TRUE_WORDS
    from retroprop.cli.tabular import MISSING_CATEGORY

    table = {}
    if kind == "boolean":
        for words, parsed in ((TRUE_WORDS, "True"), (FALSE_WORDS, "False")):
            table.update({spelling: parsed for w in words for spelling in _spellings(w)})
    else:
        table.update({category: category for category in categories})
    table.update(
        {
            spelling: MISSING_CATEGORY
            for marker in MISSING_MARKERS
            for spelling in _spellings(marker)
        }
    )
    return table


def _categorical_features(graph: _Graph, name: str, column: str, kind: str, prep: Any) -> str:
    """The one-hot block [N, categories] of one categorical or boolean column."""
    categories = prep.categorical[column]
    table = _category_table(kind, categories)
    category = graph.add(
        "LabelEncoder",
        [name],
        f"{column}/category",
        domain=ML_DOMAIN,
        keys_strings=list(table),
        values_strings=list(table.values()),
        default_string=NO_CATEGORY,
    )
    one_hot = graph.add(
        "OneHotEncoder",
        [category],
        f"{column}/one_hot",
        domain=ML_DOMAIN,
        cats_strings=categories,
        zeros=1,
    )
    return graph.add(
        "Squeeze", [one_hot, graph.constant("axis_1", [1], np.int64)], f"{column}/one_hot_2d"
    )


def _decide(graph: _Graph, probabilities: str, classes: int, threshold: float) -> str:
    """The class index of each row (int64, [N]), as ``retroprop predict`` decides it: with two
    classes the second when its probability is at least ``threshold``, else the largest."""
    if classes != 2:
        return graph.add("ArgMax", [probabilities], "class_index", axis=1, keepdims=0)
    second = graph.add(
        "Gather", [probabilities, graph.constant("one", 1, np.int64)], "positive", axis=1
    )
    chosen = graph.add(
        "GreaterOrEqual", [second, graph.constant("threshold", threshold, np.float64)], "chosen"
    )
    return graph.add("Cast", [chosen], "class_index", to=TensorProto.INT64)


def _head(graph: _Graph, logits: str, target: Any, threshold: float) -> list[tuple[str, Any]]:
    """The outputs from the network's output (float64 from here on, as predict computes):
    ``label`` and ``probabilities``, or ``variable``. Returns (name, element type, shape)."""
    z = graph.add("Cast", [logits], "logits_float64", to=TensorProto.DOUBLE)
    if target.task == "regression":
        scaled = graph.add(
            "Mul", [z, graph.constant("target_scale", target.scale, np.float64)], "target_scaled"
        )
        value = graph.add(
            "Add", [scaled, graph.constant("target_mean", target.mean, np.float64)], "value_float64"
        )
        graph.add("Cast", [value], "", output="variable", to=TensorProto.FLOAT)
        return [("variable", TensorProto.FLOAT, [BATCH, 1])]
    if target.task == "binary":
        positive = graph.add("Sigmoid", [z], "positive_probability")
        negative = graph.add(
            "Sub", [graph.constant("one", 1.0, np.float64), positive], "negative_probability"
        )
        probabilities = graph.add("Concat", [negative, positive], "probabilities_float64", axis=1)
    else:
        probabilities = graph.add("Softmax", [z], "probabilities_float64", axis=-1)
    index = _decide(graph, probabilities, len(target.classes), threshold)
    graph.add(
        "LabelEncoder",
        [index],
        "",
        output="label",
        domain=ML_DOMAIN,
        keys_int64s=list(range(len(target.classes))),
        values_strings=list(target.classes),
        default_string="",
    )
    graph.add("Cast", [probabilities], "", output="probabilities", to=TensorProto.FLOAT)
    return [
        ("label", TensorProto.STRING, [BATCH]),
        ("probabilities", TensorProto.FLOAT, [BATCH, len(target.classes)]),
    ]


def _network_dtype(model: Any) -> Any:
    arrays = list(model.state_dict().values())
    return np.dtype(arrays[0].dtype) if arrays else np.dtype(np.float32)


def table_model(
    model: Any, preprocessing: Any, target: Any, threshold: float = 0.5, opset: int | None = None
) -> Any:
    """The ONNX model of a command-line run: raw columns in, ``label`` and ``probabilities``
    (classification) or ``variable`` (regression) out; see the module's docstring.

    Parameters
    ----------
    model : Module
        The saved network (binary: ending in its sigmoid, as ``retroprop train`` saves it).
    preprocessing : retroprop.cli.tabular.Preprocessing
    target : retroprop.cli.target.Target
    threshold : float, default 0.5
        Binary: the saved ``--threshold``.
    opset : int, optional
        The ``ai.onnx`` opset (default: :mod:`retroprop.onnx`'s).

    Returns
    -------
    onnx.ModelProto

    Raises
    ------
    ValueError
        A binary model that does not end in a Sigmoid; a module the export does not support
        (:class:`retroprop.onnx.ExportError`).

    Examples
    --------
    >>> import onnxruntime, pandas as pd
    >>> from retroprop.cli.tabular import Preprocessing
    >>> from retroprop.cli.target import Target
    >>> rows = pd.DataFrame({"age": ["20", "40", ""], "pet": ["cat", "dog", "?"]})
    >>> prep = Preprocessing.fit(rows)
    >>> model = nn.mlp([len(prep.feature_names), 3])
    >>> proto = table_model(model, prep, Target("size", "multiclass", ["S", "M", "L"]))
    >>> session = onnxruntime.InferenceSession(proto.SerializeToString())
    >>> [(i.name, i.type) for i in session.get_inputs()]
    [('age', 'tensor(float)'), ('pet', 'tensor(string)')]
    >>> raw = {"age": np.array([[np.nan]], np.float32), "pet": np.array([["NA"]])}
    >>> label, probabilities = session.run(None, raw)
    >>> label.shape, probabilities.shape, str(label[0]) in ("S", "M", "L")
    ((1,), (1, 3), True)
    """
    names = input_names(list(preprocessing.columns))
    graph = _Graph(used=set(names.values()) | set(OUTPUT_NAMES))
    inputs, features = [], []
    for column in preprocessing.columns:
        kind, name = _kind(preprocessing, column), names[column]
        if kind == "numeric":
            inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [BATCH, 1]))
            features += _numeric_features(graph, name, column, preprocessing)
        else:
            inputs.append(helper.make_tensor_value_info(name, TensorProto.STRING, [BATCH, 1]))
            features.append(_categorical_features(graph, name, column, kind, preprocessing))
    encoded = graph.add("Concat", features, "features", axis=1)
    dtype = _network_dtype(model)
    if dtype == np.float64:
        encoded = graph.add("Cast", [encoded], "features_float64", to=TensorProto.DOUBLE)
    network = _logits_network(model, target)
    opset = opset or DEFAULT_OPSET
    nodes, initializers, logits = module_nodes(
        network, encoded, dtype, prefix=NETWORK_PREFIX, opset=opset
    )
    graph.nodes.extend(nodes)
    graph.initializers.extend(initializers)
    outputs = [
        helper.make_tensor_value_info(*spec) for spec in _head(graph, logits, target, threshold)
    ]
    onnx_graph = helper.make_graph(
        graph.nodes,
        "retroprop",
        inputs,
        outputs,
        graph.initializers,
        doc_string=f"retroprop model predicting {target.name!r} ({target.task}) from raw columns",
    )
    opsets = [helper.make_opsetid("", opset), helper.make_opsetid(ML_DOMAIN, ML_OPSET)]
    onnx_model = helper.make_model(
        onnx_graph,
        opset_imports=opsets,
        producer_name="retroprop",
        ir_version=helper.find_min_ir_version_for(opsets),
    )
    helper.set_model_props(onnx_model, _metadata(preprocessing, target, names, threshold))
    return onnx_model


def _logits_network(model: Any, target: Any) -> Any:
    """What the head starts from: a binary model without its final sigmoid (the head applies
    it in float64, as predict does), any other model whole."""
    if target.task != "binary":
        return model
    from retroprop import nn

    last = model[-1] if isinstance(model, nn.Sequential) and len(model) else model
    if not isinstance(last, nn.Sigmoid) or last is model:
        raise ValueError(
            f"a binary model from `retroprop train` ends in a Sigmoid; this one is "
            f"{type(model).__name__} ending in {type(last).__name__}"
        )
    return model[:-1]


def _metadata(
    preprocessing: Any, target: Any, names: dict[str, str], threshold: float
) -> dict[str, str]:
    """The model's ``metadata_props``: which input each column is, and what is predicted."""
    from retroprop import __version__

    inputs = {
        column: {"input": names[column], "kind": _kind(preprocessing, column)}
        for column in preprocessing.columns
    }
    predicts = {"column": target.name, "task": target.task}
    if target.classification:
        predicts["classes"] = list(target.classes)
    if target.task == "binary":
        predicts["threshold"] = threshold
    return {
        "retroprop.version": __version__,
        "retroprop.inputs": json.dumps(inputs, ensure_ascii=False),
        "retroprop.target": json.dumps(predicts, ensure_ascii=False),
    }
