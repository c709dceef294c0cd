"""The package stays readable: no function over 60 code lines, no file over 500 lines.

Code lines exclude docstrings, comments and blank lines. A flat declarative table (a module-level
assignment of a literal) is not a function and is not counted; neither is an ``__init__`` that only
stores its arguments (``self.x = x``, scikit-learn's estimator style): it is a table of parameters,
exempted by ``is_flat_init``. This is the one test of the rule for the whole package.
"""

import ast
import io
import tokenize
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "retroprop"
MAX_FUNCTION_CODE_LINES = 60
MAX_FILE_LINES = 500


def _code_lines(source: str) -> set[int]:
    """Line numbers that hold code: not blank, not only a comment, not part of a docstring."""
    docstring_lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                docstring_lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in (
            tokenize.COMMENT,
            tokenize.NL,
            tokenize.NEWLINE,
            tokenize.INDENT,
            tokenize.DEDENT,
            tokenize.ENDMARKER,
        ):
            continue
        lines.update(range(token.start[0], token.end[0] + 1))
    return lines - docstring_lines


def is_flat_init(node: ast.AST) -> bool:
    """An ``__init__`` whose body (docstring aside) only stores arguments: ``self.x = x``."""
    if not isinstance(node, ast.FunctionDef) or node.name != "__init__":
        return False
    statements = [s for s in node.body if not isinstance(s, ast.Expr)]
    return all(
        isinstance(s, ast.Assign)
        and all(isinstance(t, ast.Attribute) for t in s.targets)
        and isinstance(s.value, ast.Name)
        for s in statements
    )


def function_lengths(path: Path) -> list[tuple[str, int, int]]:
    """(qualified name, first line, code lines of the body) of every function in the file."""
    source = path.read_text(encoding="utf-8")
    code = _code_lines(source)
    found = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if is_flat_init(child):
                continue
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                span = set(range(child.body[0].lineno, child.end_lineno + 1))  # the signature aside
                found.append((prefix + child.name, child.lineno, len(span & code)))
                visit(child, prefix + child.name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")

    visit(ast.parse(source), "")
    return found


FILES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_file_and_functions_short(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_FILE_LINES, f"{path.name} has {lines} lines (max {MAX_FILE_LINES})"
    long = [
        (name, line, n) for name, line, n in function_lengths(path) if n > MAX_FUNCTION_CODE_LINES
    ]
    assert not long, f"functions over {MAX_FUNCTION_CODE_LINES} code lines: {long}"


def test_the_counter_counts(tmp_path):
    body = "\n".join(f"    x{i} = {i}  # comment" for i in range(61))
    path = tmp_path / "m.py"
    path.write_text(f'def f():\n    """Doc.\n\n    More.\n    """\n{body}\n    return x0\n')
    assert function_lengths(path) == [("f", 1, 62)]


def test_only_a_flat_init_is_exempt(tmp_path):
    stores = "\n".join(f"        self.x{i} = x{i}" for i in range(61))
    computes = "\n".join(f"        self.x{i} = x{i} + 1" for i in range(61))
    path = tmp_path / "m.py"
    path.write_text(
        f"class A:\n    def __init__(self):\n{stores}\n\n"
        f"class B:\n    def __init__(self):\n{computes}\n"
    )
    assert function_lengths(path) == [("B.__init__", 66, 61)]
