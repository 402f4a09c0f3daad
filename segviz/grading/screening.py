"""Static screening of a student's solution cell, before it runs.

Running a submission is the real test, but a few things a solution could do would make the run
itself untrustworthy: printing through a patched ``print``, rewriting the grader's helpers,
reading the expected outputs out of a notebook file, or simply calling segviz's own reference
implementation of the function the exercise asks for. :func:`screen_solution` looks for these in
the cell's syntax tree (after IPython's own ``%magic`` / ``!shell`` rewriting) and returns one
:class:`Finding` per problem; the grader scores such an exercise 0, does not run the cell, and
writes the reasons into the report.

The rules, each with the reason the report gives:

* **reference** — a name that resolves to a reference the master's checks compare with (any
  ``segviz`` function or class a check cell uses), or to one of the names the solution cell's
  ``forbid`` metadata lists (e.g. ``torch.nn.functional.conv_transpose2d`` in an exercise that
  asks for a transposed convolution written by hand);
* **builtins** — ``import builtins``, ``__builtins__``, ``__import__``;
* **print** — rebinding ``print`` (assignment, ``def``, ``import … as print``, ``global print``);
* **stdout** — ``sys.stdout`` / ``sys.__stdout__`` / ``sys.displayhook``, ``redirect_stdout``,
  ``os.write`` / ``os.dup2`` (writing to or replacing the stream the checks print to);
* **notebook** — a string naming a notebook (``.ipynb``), the masters (``labs/source``) or the
  grading seed, ``__file__``, IPython's ``get_ipython`` / ``In`` / ``Out`` / ``_ih`` history;
* **grading** — ``segviz.grading`` in any form (the grader's own code);
* **patching** — assigning to or deleting an attribute of a module (``torch.allclose = …``),
  ``setattr``/``delattr`` on a module, ``sys.modules``;
* **introspection** — frames and tracebacks (``inspect``, ``sys._getframe``, ``f_locals``,
  ``gc``) through which a function could read the reference's answer from its caller;
* **dynamic code** — ``eval``, ``exec``, ``compile``, ``importlib``, ``globals()``, ``vars()``,
  ``getattr`` on a module with a computed name: the screening could not see what they do.

A syntax error is not a finding: the cell then fails when it runs, and the report says why.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Finding", "screen_solution", "imported_names", "resolve", "segviz_references"]

# Roots the screening may import to resolve a dotted name (trusted, installed libraries only).
_RESOLVABLE = ("segviz", "torch", "torchvision", "numpy")
_FRAME_ATTRIBUTES = {"f_back", "f_locals", "f_globals", "f_builtins", "f_code", "tb_frame", "tb_next",
                     "gi_frame", "cr_frame", "ag_frame", "_getframe", "__traceback__", "exc_info",
                     "last_traceback", "last_value", "settrace", "setprofile"}
_DUNDER_ESCAPES = {"__builtins__", "__import__", "__globals__", "__dict__", "__code__", "__closure__",
                   "__subclasses__", "__loader__", "__spec__", "__file__"}
_DYNAMIC_CALLS = {"eval", "exec", "compile", "globals", "vars", "breakpoint", "__import__"}
_STDOUT_ATTRIBUTES = {"stdout", "__stdout__", "stderr", "__stderr__", "displayhook", "__displayhook__",
                      "excepthook"}
_STDOUT_NAMES = {"redirect_stdout", "redirect_stderr"}
_BANNED_MODULES = {
    "builtins": "builtins", "__builtin__": "builtins", "importlib": "dynamic code", "imp": "dynamic code",
    "inspect": "introspection", "gc": "introspection", "traceback": "introspection",
    "IPython": "notebook", "ipykernel": "notebook", "nbformat": "notebook", "nbclient": "notebook",
    "nbval": "notebook",
}
_IPYTHON_NAMES = {"get_ipython", "In", "Out", "_ih", "_oh", "_i", "_ii", "_iii", "__session__",
                  "__vsc_ipynb_file__"}
_SAFE_MAGICS = {"time", "timeit"}
_NOT_REFERENCES = ("segviz.utils", "segviz.validation", "segviz.grading")
_SUSPECT_STRINGS = {".ipynb": "names a notebook file", "labs/source": "names the lab masters",
                    "SEGVIZ_GRADING": "names the grader's settings"}


@dataclass(frozen=True)
class Finding:
    """One problem in a solution cell: which rule, where, and the reason the report shows."""

    rule: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def resolve(dotted: str) -> Any:
    """The object a dotted name such as ``torch.nn.functional.conv2d`` denotes, or ``None``.

    Only names under segviz, torch, torchvision and numpy are imported; anything else is ``None``.

    Example:
        >>> import torch
        >>> resolve("torch.nn.functional.relu") is torch.nn.functional.relu
        True
        >>> resolve("os.system") is None
        True
    """
    parts = dotted.split(".")
    if parts[0] not in _RESOLVABLE:
        return None
    try:
        obj = importlib.import_module(parts[0])
    except Exception:
        return None
    path = parts[0]
    for part in parts[1:]:
        path = f"{path}.{part}"
        try:  # an attribute first: a package's function may shadow a submodule of the same name
            found = getattr(obj, part, None)
        except Exception:
            found = None
        if found is None:
            try:
                found = importlib.import_module(path)
            except Exception:
                return None
        obj = found
    return obj


def imported_names(sources: Iterable[str]) -> dict[str, str]:
    """The aliases that imports in ``sources`` bind: ``{"F": "torch.nn.functional", …}``.

    Example:
        >>> imported_names(["import torch.nn.functional as F\\nfrom segviz import ops\\nimport numpy"])
        {'F': 'torch.nn.functional', 'ops': 'segviz.ops', 'numpy': 'numpy'}
    """
    aliases: dict[str, str] = {}
    for source in sources:
        tree = _parse(source)
        if tree is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for name in node.names:
                    if name.asname:
                        aliases[name.asname] = name.name
                    else:
                        root = name.name.split(".")[0]
                        aliases[root] = root
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for name in node.names:
                    if name.name != "*":
                        aliases[name.asname or name.name] = f"{node.module}.{name.name}"
    return aliases


def _parse(source: str) -> ast.Module | None:
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    except Exception:  # IPython missing or the cell cannot be transformed: parse it as is
        pass
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def _dotted(node: ast.AST) -> list[str] | None:
    """``a.b.c`` → ``["a", "b", "c"]``; None when the chain does not start at a plain name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return parts[::-1]
    return None


def segviz_references(check_sources: Iterable[str], aliases: Mapping[str, str]) -> dict[str, Any]:
    """The segviz functions and classes the master's own cells use to check answers.

    ``segviz.grading`` (the checking helpers) and the course utilities (``seed_everything``,
    ``default_device``, argument validation) are not references: a solution may use them.

    Example:
        >>> refs = segviz_references(["check_function('q1', 'f', f, segviz.ops.overlap_count, make)"],
        ...                          {"segviz": "segviz"})
        >>> list(refs)
        ['segviz.ops.overlap_count']
    """
    found: dict[str, Any] = {}
    for source in check_sources:
        tree = _parse(source)
        if tree is None:
            continue
        local = dict(aliases)
        local.update(imported_names([source]))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Attribute, ast.Name)):
                continue
            parts = _dotted(node)
            if not parts or parts[0] not in local:
                continue
            name = ".".join([local[parts[0]], *parts[1:]])
            if not name.startswith("segviz.") or name.startswith("segviz.grading"):
                continue
            obj = resolve(name)
            if obj is None or not callable(obj) or isinstance(obj, type(sys)):
                continue
            if str(getattr(obj, "__module__", "")).startswith(_NOT_REFERENCES):
                continue
            found.setdefault(name, obj)
    return found


class _Screen(ast.NodeVisitor):
    def __init__(self, aliases: dict[str, str], forbidden: Mapping[str, Any]) -> None:
        self.aliases = aliases
        self.forbidden = {id(obj): name for name, obj in forbidden.items()}
        self.findings: list[Finding] = []

    def add(self, rule: str, node: ast.AST, reason: str) -> None:
        self.findings.append(Finding(rule, getattr(node, "lineno", 0), reason))

    # -- names -----------------------------------------------------------------------------
    def _qualified(self, node: ast.AST) -> str | None:
        parts = _dotted(node)
        if not parts:
            return None
        root = self.aliases.get(parts[0])
        if root is None:
            return None
        return ".".join([root, *parts[1:]])

    def _is_module(self, node: ast.AST) -> str | None:
        """The module a name/attribute chain denotes (by import alias), if any."""
        name = self._qualified(node)
        if name is None:
            return None
        obj = resolve(name)
        if obj is not None and isinstance(obj, type(sys)):
            return name
        if obj is None and name.split(".")[0] not in _RESOLVABLE and name in self.aliases.values():
            return name  # an import of some other module (sys, os, math, …)
        return None

    def _check_qualified(self, node: ast.AST, name: str) -> None:
        if name == "segviz.grading" or name.startswith("segviz.grading."):
            self.add("grading", node, f"uses {name}: solutions may not touch the grader's own code")
            return
        if name in ("sys.modules",) or name.startswith("sys.modules."):
            self.add("patching", node, "uses sys.modules: solutions may not swap modules")
        if name.split(".")[0] == "sys" and any(p in _STDOUT_ATTRIBUTES for p in name.split(".")[1:]):
            self.add("stdout", node, f"touches {name}: solutions may not write to or replace the output checks print to")
        if name.split(".")[0] == "os" and name.split(".")[-1] in ("write", "dup2", "dup", "fdopen"):
            self.add("stdout", node, f"uses {name}: solutions may not write to or replace the output checks print to")
        if name.split(".")[-1] in _STDOUT_NAMES:
            self.add("stdout", node, f"uses {name}: solutions may not redirect the output checks print to")
        obj = resolve(name)
        if obj is not None and id(obj) in self.forbidden:
            ref = self.forbidden[id(obj)]
            self.add("reference", node, f"uses {ref}, the implementation this exercise is compared with; write your own")

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in ("print",) and isinstance(node.ctx, (ast.Store, ast.Del)):
            self.add("print", node, "rebinds print: solutions may not replace print")
        if node.id in _DUNDER_ESCAPES:
            self.add("builtins", node, f"uses {node.id}: solutions may not reach the interpreter's internals")
        if node.id in _IPYTHON_NAMES:
            self.add("notebook", node, f"uses {node.id}: solutions may not reach the notebook or its history")
        if node.id in ("__builtins__",):
            return
        name = self._qualified(node)
        if name is not None:
            self._check_qualified(node, name)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in _FRAME_ATTRIBUTES:
            self.add("introspection", node, f"uses .{node.attr}: solutions may not inspect the caller's frames")
        elif node.attr in _DUNDER_ESCAPES:
            self.add("builtins", node, f"uses .{node.attr}: solutions may not reach the interpreter's internals")
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            owner = self._qualified(node.value)
            if owner is not None:
                verb = "assigns" if isinstance(node.ctx, ast.Store) else "deletes"
                self.add("patching", node, f"{verb} {owner}.{node.attr}: solutions may not change library code")
        name = self._qualified(node)
        if name is not None:
            self._check_qualified(node, name)
            # do not visit the inner chain again: a.b.c was checked as a whole
            inner = node.value
            while isinstance(inner, ast.Attribute):
                inner = inner.value
            if isinstance(inner, ast.Name) and inner.id in self.aliases:
                if inner.id in _IPYTHON_NAMES or inner.id in _DUNDER_ESCAPES:
                    self.visit(inner)
                return
        self.generic_visit(node)

    # -- imports ---------------------------------------------------------------------------
    def _import(self, node: ast.AST, module: str, names: list[ast.alias]) -> None:
        root = module.split(".")[0]
        rule = _BANNED_MODULES.get(root)
        if rule is not None:
            self.add(rule, node, f"imports {module}: not allowed in a solution cell")
        if module == "contextlib" and any(a.name in _STDOUT_NAMES for a in names):
            self.add("stdout", node, "imports redirect_stdout: solutions may not redirect the output checks print to")
        if module == "sys" and any(a.name in _STDOUT_ATTRIBUTES or a.name in ("modules", "_getframe") for a in names):
            self.add("stdout", node, "imports from sys what the checks rely on")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._import(node, alias.name, [])
            if alias.asname == "print":
                self.add("print", node, "rebinds print: solutions may not replace print")
            self._check_qualified(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level:
            return
        self._import(node, module, node.names)
        for alias in node.names:
            if (alias.asname or alias.name) == "print":
                self.add("print", node, "rebinds print: solutions may not replace print")
            if alias.name == "*":
                self._check_qualified(node, module)
                obj = resolve(module)
                if obj is not None:
                    public = getattr(obj, "__all__", [n for n in dir(obj) if not n.startswith("_")])
                    for attr in public:
                        if id(getattr(obj, attr, None)) in self.forbidden:
                            self.add("reference", node, f"imports * from {module}, which includes "
                                     f"{self.forbidden[id(getattr(obj, attr))]}; write your own")
                            break
            else:
                self._check_qualified(node, f"{module}.{alias.name}")

    # -- definitions and calls -------------------------------------------------------------
    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if node.name == "print":
            self.add("print", node, "defines print: solutions may not replace print")
        args = node.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if arg is not None and arg.arg == "print":
                self.add("print", node, "rebinds print: solutions may not replace print")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if node.name == "print":
            self.add("print", node, "defines print: solutions may not replace print")
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global | ast.Nonlocal) -> None:
        if "print" in node.names:
            self.add("print", node, "rebinds print: solutions may not replace print")

    visit_Nonlocal = visit_Global

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in _DYNAMIC_CALLS and func.id not in self.aliases:
            self.add("dynamic code", node, f"calls {func.id}(): the screening cannot see what it runs")
        if isinstance(func, ast.Name) and func.id in ("setattr", "delattr") and node.args:
            module = self._qualified(node.args[0])
            if module is not None:
                self.add("patching", node, f"{func.id}() on {module}: solutions may not change library code")
        if isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) >= 2:
            module = self._is_module(node.args[0])
            if module is not None:
                attr = node.args[1]
                if isinstance(attr, ast.Constant) and isinstance(attr.value, str):
                    self._check_qualified(node, f"{module}.{attr.value}")
                else:
                    self.add("dynamic code", node, f"getattr() on {module} with a computed name: "
                             "the screening cannot see what it reaches")
        if (isinstance(func, ast.Attribute) and func.attr in ("run_line_magic", "run_cell_magic", "system",
                                                                "getoutput")
                and isinstance(func.value, ast.Call) and isinstance(func.value.func, ast.Name)
                and func.value.func.id == "get_ipython"):
            magic = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
            if func.attr in ("run_line_magic", "run_cell_magic") and magic in _SAFE_MAGICS:
                for arg in node.args[1:]:
                    self.visit(arg)
                return
            what = f"%{magic}" if magic else "a shell command"
            self.add("notebook", node, f"uses {what}: only %time and %timeit are allowed in a solution cell")
            return
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            for needle, why in _SUSPECT_STRINGS.items():
                if needle in node.value:
                    self.add("notebook", node, f"a string {why} ({needle!r}): solutions may not read notebooks or grader files")


def screen_solution(source: str, aliases: Mapping[str, str] | None = None,
                    forbidden: Mapping[str, Any] | None = None) -> list[Finding]:
    """The problems :mod:`this module <segviz.grading.screening>` describes, found in ``source``.

    Args:
        source: the solution cell's code (IPython magics allowed).
        aliases: names bound by imports in the master's other cells (see :func:`imported_names`);
            the cell's own imports are added.
        forbidden: ``{dotted name: object}`` the solution may not use (see
            :func:`segviz_references`).

    Returns:
        The findings, in source order, one per rule and line; empty when the cell is clean or does
        not parse (a syntax error shows up when the cell runs).

    Example:
        >>> [f.rule for f in screen_solution("import builtins\\nbuiltins.print = lambda *a: None")]
        ['builtins', 'patching']
        >>> screen_solution("def f(x):\\n    return 2 * x\\n")
        []
    """
    tree = _parse(source)
    if tree is None:
        return []
    names = dict(aliases or {})
    # names the cell itself defines shadow imported aliases (a student's own conv2d_matrix)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.pop(node.name, None)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names.pop(target.id, None)
    names.update(imported_names([source]))
    screen = _Screen(names, forbidden or {})
    screen.visit(tree)
    unique: dict[tuple[str, int], Finding] = {}
    for finding in screen.findings:
        unique.setdefault((finding.rule, finding.line), finding)
    return sorted(unique.values(), key=lambda f: (f.line, f.rule))
