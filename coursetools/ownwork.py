"""Own-work checks for graded exercises: did the student's code do the work, or a library?

Hidden tests of the exercises call :func:`assert_own_work`. It never reads comments,
docstrings or strings, so a comment that says "unlike torch, written by hand" never costs a
point. At autograde the test runs in the grader's trusted interpreter and the answer is a
:class:`coursetools.verdicts.Remote`: the check then reads the *submitted notebook's source*,
parsed here with :mod:`ast` (:func:`find_library_use_in_source`), never an object of the
student's kernel; and what the assignment forbids is absent from the sandbox altogether
(:mod:`coursetools.sandbox`), so a route the reading misses still finds nothing to import.
In a plain kernel (``nbgrader validate`` of the solutions) the answer is a real function and
the check reads it as described next.

* :func:`assert_own_work` reads the *code*: the function's source parsed with :mod:`ast`
  (comments are gone, strings are constants, not names), and every name it uses resolved to
  the object it stands for in the notebook. It fails when that object is a forbidden module
  or comes from one (``nn.rnn_step`` after ``from rnnlab import numpy_nets as nn``,
  ``tanh`` after ``from torch import tanh``), when the function imports one, when it reaches
  for import machinery (``importlib``, ``__import__``, ``sys.modules``, ``eval``, ``exec``,
  ``getattr(module, <computed name>)``), and it follows every helper function or class
  written in the notebook, so a helper that calls torch counts as calling torch.
* :func:`run_blocked` runs the function while the forbidden libraries are unavailable:
  importing one raises :class:`BlockedLibrary`, and every name of the notebook bound to a
  forbidden module or object stands for a placeholder that raises on use. An answer that
  needs a library fails; one that only mentions it passes.

Forbidden by default: PyTorch, TensorFlow, Keras, JAX and rnnlab's answer modules (all of
rnnlab except the data sources and helpers in :data:`ALLOWED`). An exercise that is meant to
use PyTorch passes its own ``forbidden`` tuple. Installed code (the environment, the standard
library) is trusted and not read. An answer that calls another graded answer (``rnn_forward``
calling ``rnn_step``) names it in ``apart``: each answer is judged by its own test, so one
shortcut costs one test's points. Like every test run inside the student's kernel, these
checks stop shortcuts, not a determined attacker who monkeypatches them.
"""
import ast
import builtins
import contextlib
import functools
import importlib.abc
import inspect
import os
import sys
import textwrap
import types

FORBIDDEN = ("torch", "tensorflow", "keras", "jax", "rnnlab")
# rnnlab modules that provide data or plumbing, never an exercise's answer
ALLOWED = ("rnnlab.data", "rnnlab.seeding", "rnnlab.device", "rnnlab.video", "rnnlab.speech",
           "rnnlab.figures", "rnnlab.quiet")
# how code loads a module whose name it computes: never needed in an exercise's answer
DYNAMIC_MODULES = ("importlib", "builtins", "runpy", "pkgutil", "imp", "ctypes", "pickle", "marshal",
                   "dill", "cloudpickle", "shelve", "joblib", "code", "codeop")
DYNAMIC_BUILTINS = {getattr(builtins, n) for n in ("__import__", "eval", "exec", "compile",
                                                   "globals", "vars")}
# installed code (the environment, the standard library) is trusted, not read
_TRUSTED_DIRS = tuple(os.path.join(os.path.realpath(p), "") for p in
                      {sys.prefix, sys.base_prefix, sys.exec_prefix} if os.path.realpath(p) != "/")


class BlockedLibrary(ImportError):
    """A forbidden library was used while :func:`run_blocked` ran the student's code."""


def _match(name, prefixes):
    """The longest entry of ``prefixes`` that is ``name`` or a package holding it."""
    hits = [p for p in prefixes if name == p or name.startswith(p + ".")]
    return max(hits, key=len, default="")


def is_forbidden(module, forbidden=FORBIDDEN, allowed=ALLOWED):
    """True when the module name ``module`` is, or is inside, a forbidden library."""
    return _is_forbidden(module, tuple(forbidden), tuple(allowed))


@functools.lru_cache(maxsize=65536)                     # sys.modules holds ~1000 names
def _is_forbidden(module, forbidden, allowed):
    return bool(module) and len(_match(module, forbidden)) > len(_match(module, allowed))


def _origin(obj):
    """The module that defines ``obj`` (a module, a function, a class or an instance)."""
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
        return getattr(obj, "__module__", None) or ""
    return getattr(type(obj), "__module__", "") or ""


def _written_here(obj):
    """True for a function or class written in the notebook (not installed code)."""
    code = getattr(obj, "__code__", None)
    if code is None and isinstance(obj, type):
        return _origin(obj) == "__main__"
    if code is None:
        return False
    path = os.path.realpath(code.co_filename)
    rnnlab_dir = os.path.join(os.path.dirname(os.path.realpath(__file__)), "")
    return not path.startswith(_TRUSTED_DIRS + (rnnlab_dir,))


class _Reader:
    """Walks a function and the notebook helpers it reaches; ``problem`` says what it found."""

    def __init__(self, forbidden, allowed):
        self.forbidden, self.allowed, self.seen = forbidden, allowed, set()

    def bad_module(self, name):
        if is_forbidden(name, self.forbidden, self.allowed):
            return f"the library {name}"
        if _match(name, DYNAMIC_MODULES):
            return f"the import machinery of {name}"
        return None

    def check(self, obj, how):
        """None, or a sentence saying which forbidden thing ``obj`` (reached by ``how``) is."""
        if id(obj) in self.seen or obj is None or isinstance(obj, (str, int, float, bool)):
            return None
        self.seen.add(id(obj))
        if any(obj is b for b in DYNAMIC_BUILTINS):
            return f"{how} loads code by name ({obj.__name__})"
        if obj is sys.modules or obj is sys.meta_path:
            return f"{how} reaches sys.modules"
        origin = _origin(obj)
        if isinstance(obj, types.ModuleType) and self.bad_module(origin):
            return f"{how} is {self.bad_module(origin)}"
        if is_forbidden(origin, self.forbidden, self.allowed):
            return f"{how} comes from the library {origin}"
        if isinstance(obj, functools.partial):
            return self.check(obj.func, how)
        if isinstance(obj, types.MethodType):
            return self.check(obj.__func__, how) or self.check(obj.__self__, how)
        if isinstance(obj, (staticmethod, classmethod)):
            return self.check(obj.__func__, how)
        if isinstance(obj, property):
            return self.check(obj.fget, how) or self.check(obj.fset, how)
        if isinstance(obj, types.FunctionType) and _written_here(obj):
            return self.read_function(obj, how)
        if isinstance(obj, type) and _written_here(obj):
            return self.read_class(obj, how)
        if not isinstance(obj, (type, types.ModuleType, types.FunctionType)) and _written_here(type(obj)):
            return self.read_class(type(obj), how)           # an instance of a notebook class
        return None

    def read_class(self, cls, how):
        for base in cls.__bases__:
            if (problem := self.check(base, f"the base class {base.__name__} of {how}")):
                return problem
        for name, value in vars(cls).items():
            dunder = name.startswith("__") and name not in ("__init__", "__call__")
            if not dunder and (problem := self.check(value, f"{cls.__name__}.{name}")):
                return problem
        return None

    def read_function(self, func, how):
        outside = list(func.__defaults__ or ()) + list((func.__kwdefaults__ or {}).values())
        for value in outside:
            if (problem := self.check(value, f"a default argument of {how}")):
                return problem
        local = _local_names(func.__code__)
        closure = dict(zip(func.__code__.co_freevars,
                           (c.cell_contents for c in func.__closure__ or ()
                            if _has_contents(c))))

        def lookup(name):
            if name in closure:
                return closure[name]
            if name in func.__globals__:
                return func.__globals__[name]
            return getattr(builtins, name, None)

        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
        except (OSError, TypeError, SyntaxError):
            # no source (code made by exec): judge the names the compiled code loads
            for name in _loaded_names(func.__code__) - local:
                if (problem := self.check(lookup(name), f"`{name}` in {how}")):
                    return problem
            return None
        return self.read_tree(tree, local, lookup, how)

    def read_tree(self, tree, local, lookup, how):
        starts = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        for node in ast.walk(tree):
            if (problem := self.read_node(node, local, lookup, how, starts)):
                return problem
        return None

    def read_node(self, node, local, lookup, how, starts):
        """The problem with one node of the syntax tree, if any."""
        code = f"`{ast.unparse(node)}` in {how}"
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                module = alias.name if isinstance(node, ast.Import) else f"{node.module}.{alias.name}"
                if (bad := self.bad_module(module)):
                    return f"{how} imports {bad}"
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            chain, base = [], node                       # a.b.c: start at a, then b, then c
            while isinstance(base, ast.Attribute):
                chain.insert(0, base.attr)
                base = base.value
            if isinstance(base, ast.Name) and base.id not in local:
                return self.check_chain(lookup(base.id), chain, code)
        elif isinstance(node, ast.Call) and _is_name(node.func, "getattr", local) and node.args:
            target, name = node.args[0], (node.args[1:] or [None])[0]
            obj = lookup(target.id) if isinstance(target, ast.Name) and target.id not in local else None
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                return self.check_chain(obj, [name.value], code)
            if isinstance(obj, types.ModuleType):
                return f"{code} looks up a computed name in the module {obj.__name__}"
        elif (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
              and node.id not in local and id(node) not in starts):
            return self.check(lookup(node.id), code)
        return None

    def check_chain(self, obj, chain, code):
        """Check ``obj`` and each attribute of ``obj.a.b`` that a module or class leads to."""
        if (problem := self.check(obj, code)):
            return problem
        for attr in chain:
            if attr == "modules" and obj is sys:
                return f"{code} reaches sys.modules"
            if not isinstance(obj, (types.ModuleType, type)):
                return None                          # never evaluate attributes of instances
            obj = inspect.getattr_static(obj, attr, None)
            if (problem := self.check(obj, code)):
                return problem
        return None


def _has_contents(cell):
    try:
        return cell.cell_contents is not cell            # always true once the cell is filled
    except ValueError:                                   # an empty cell (variable not yet bound)
        return False


def _is_name(node, name, local):
    return isinstance(node, ast.Name) and node.id == name and name not in local


def _code_objects(code):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def _local_names(code):
    """Names bound inside the function or its nested functions (parameters, assignments)."""
    return {n for c in _code_objects(code) for n in c.co_varnames + c.co_cellvars}


def _loaded_names(code):
    return {n for c in _code_objects(code) for n in c.co_names + c.co_freevars}


def find_library_use(func, forbidden=FORBIDDEN, allowed=ALLOWED, apart=()):
    """None when ``func`` is written in the notebook and reaches no forbidden library;
    otherwise a sentence that says what it uses (for a test's assertion message).

    ``apart`` lists the notebook's other answers that ``func`` may call: each is judged by
    its own test, so a shortcut there costs that test's points, not this one's too."""
    func = getattr(func, "__func__", func)                   # a bound method: its function
    name = getattr(func, "__name__", type(func).__name__)
    origin = _origin(func)
    if is_forbidden(origin, forbidden, allowed):
        return f"{name} is imported from {origin}: it must be defined in this notebook, by you"
    if not _written_here(func):
        wrapper = inspect.getmodule(getattr(func, "__code__", None)) if hasattr(func, "__wrapped__") else None
        if wrapper is not None and is_forbidden(wrapper.__name__, forbidden, allowed):
            return f"{name} is wrapped by the library {wrapper.__name__}"
        return f"{name} must be defined in this notebook (with def or class), not imported"
    reader = _Reader(forbidden, allowed)
    reader.seen.update([id(func)] + [id(other) for other in apart])
    if isinstance(func, type):
        return reader.read_class(func, name)
    wrapped = getattr(func, "__wrapped__", None)
    return reader.read_function(func, name) or (wrapped and reader.check(wrapped, name))


def assert_own_work(func, forbidden=FORBIDDEN, allowed=ALLOWED, apart=()):
    """Raise ``AssertionError`` naming the problem when :func:`find_library_use` (a real
    function) or :func:`find_library_use_in_source` (an answer of a graded submission)
    finds one."""
    engine = getattr(func, "_engine", None) if _is_remote(func) else None
    if engine is not None:
        names = [a if isinstance(a, str) else getattr(a, "__name__", "") for a in apart]
        problem = find_library_use_in_source(func.__name__, engine.submitted_sources,
                                             forbidden, allowed, names)
    else:
        problem = find_library_use(func, forbidden, allowed,
                                   [a for a in apart if not isinstance(a, str)])
    what = "/".join(f.split(".")[-1] for f in forbidden)
    assert problem is None, f"{problem}. Do the work yourself here, without {what}."


class _Unavailable:
    """Stands for a forbidden module or object while :func:`run_blocked` runs."""

    def __init__(self, name):
        object.__setattr__(self, "_name", name)

    def _refuse(self, *args, **kwargs):
        raise BlockedLibrary(f"{object.__getattribute__(self, '_name')} is not available "
                             "while this answer is graded")

    __call__ = __getattr__ = __getitem__ = __iter__ = __array__ = _refuse


class _Refuser(importlib.abc.MetaPathFinder):
    def __init__(self, forbidden, allowed):
        self.forbidden, self.allowed = forbidden, allowed

    def find_spec(self, fullname, path=None, target=None):
        """Refuse a forbidden module; say nothing (None) about the others."""
        if is_forbidden(fullname, self.forbidden, self.allowed):
            raise BlockedLibrary(f"{fullname} is not available while this answer is graded")


@contextlib.contextmanager
def libraries_blocked(namespaces=(), cells=(), forbidden=FORBIDDEN, allowed=ALLOWED):
    """While active, forbidden libraries cannot be imported, and names bound to them in each
    dict of ``namespaces`` (a notebook's globals) or closure cell of ``cells`` stand for
    placeholders that raise :class:`BlockedLibrary` when used."""
    hidden = {n: m for n, m in sys.modules.items() if is_forbidden(n, forbidden, allowed)}
    swapped = []
    for namespace in namespaces:
        for name, value in list(namespace.items()):
            if not name.startswith("__") and is_forbidden(_origin(value), forbidden, allowed):
                swapped.append((namespace, name, value))
                namespace[name] = _Unavailable(f"{name} ({_origin(value)})")
    for cell in cells:
        if _has_contents(cell) and is_forbidden(_origin(cell.cell_contents), forbidden, allowed):
            swapped.append((cell, None, cell.cell_contents))
            cell.cell_contents = _Unavailable(_origin(cell.cell_contents))
    refuser = _Refuser(forbidden, allowed)
    for name in hidden:
        del sys.modules[name]
    sys.meta_path.insert(0, refuser)
    try:
        yield
    finally:
        sys.meta_path.remove(refuser)
        sys.modules.update(hidden)
        for where, name, value in swapped:
            if name is None:
                where.cell_contents = value
            else:
                where[name] = value


def _namespaces(obj):
    """The globals of the notebook that defined ``obj`` (a function, method, class, instance)."""
    obj = getattr(obj, "__func__", obj)
    if not isinstance(obj, (type, types.FunctionType)):
        obj = type(obj)
    if isinstance(obj, type):
        functions = [v for v in vars(obj).values() if isinstance(v, types.FunctionType)]
        obj = functions[0] if functions else None
    return [obj.__globals__] if obj is not None else []


def run_blocked(func, *args, forbidden=FORBIDDEN, allowed=ALLOWED, **kwargs):
    """``func(*args, **kwargs)`` with the forbidden libraries unavailable; a use of one
    becomes an ``AssertionError`` that says so. (For an answer that calls another answer,
    rely on :func:`assert_own_work` with ``apart``: blocking would fail the caller for the
    other answer's shortcut.)"""
    if _is_remote(func):      # graded: what the assignment forbids is absent from the sandbox
        return func(*args, **kwargs)
    closure = getattr(getattr(func, "__func__", func), "__closure__", None) or ()
    try:
        with libraries_blocked(_namespaces(func), closure, forbidden, allowed):
            return func(*args, **kwargs)
    except BlockedLibrary as err:
        raise AssertionError(f"your code needs a library to work ({err}); "
                             "do the work yourself here") from None


# ---- the same judgement on source text (autograde: the trusted side never sees objects) ----

# attributes that reach an interpreter's machinery instead of computing anything
INTROSPECTION = {"modules", "__dict__", "__globals__", "__builtins__", "__import__",
                 "__subclasses__", "__bases__", "__mro__", "__code__", "__closure__",
                 "__getattribute__", "__loader__", "__spec__", "f_globals", "f_back",
                 "gi_frame", "meta_path", "path_hooks"}
DYNAMIC_NAMES = {"__import__", "eval", "exec", "compile", "globals", "vars", "locals",
                 "breakpoint", "__builtins__", "get_ipython"}


def _is_remote(obj) -> bool:
    from coursetools.verdicts import Remote
    return type(obj) is Remote


def _top_level(sources):
    """name -> the last top-level node that binds it, over the notebook's code cells."""
    bound = {}
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in tree.body:
            for name in _names_bound_by(node):
                bound[name] = node
    return bound


def _names_bound_by(node):
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    targets = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
        targets = [node.target]
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        targets = [i.optional_vars for i in node.items if i.optional_vars]
    names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    if isinstance(node, (ast.If, ast.Try, ast.While, ast.For, ast.With)):
        names += [name for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt)
                  for name in _names_bound_by(child)]
    return names


def _locals_of(node) -> set:
    """Names bound inside a function or class (arguments, assignments, loops, imports)."""
    local = set()
    for inner in ast.walk(node):
        if isinstance(inner, ast.arg):
            local.add(inner.arg)
        elif isinstance(inner, ast.Name) and isinstance(inner.ctx, (ast.Store, ast.Del)):
            local.add(inner.id)
        elif isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and inner is not node:
            local.add(inner.name)
        elif isinstance(inner, (ast.Import, ast.ImportFrom)):
            local.update((a.asname or a.name).split(".")[0] for a in inner.names)
    return local


def _is_sys(node, bound, local) -> bool:
    """True when ``node`` is a name bound to the sys module (``sys.modules``, not a model's
    ``.modules()``)."""
    if not isinstance(node, ast.Name):
        return not isinstance(node, ast.Call)
    target = bound.get(node.id) if node.id not in local else None
    return node.id == "sys" or (isinstance(target, ast.Import) and
                                any(a.name == "sys" for a in target.names))


def find_library_use_in_source(name, sources, forbidden=FORBIDDEN, allowed=ALLOWED, apart=()):
    """None when the notebook code ``sources`` (its code cells, in order) defines ``name``
    with def or class and the code it reaches uses no forbidden library; otherwise a sentence
    saying what it uses. Helpers written in the notebook are followed; the answers in
    ``apart`` (names) are judged by their own tests."""
    bound = _top_level(sources)
    node = bound.get(name)
    if node is None:
        return f"{name} must be defined in this notebook (with def or class)"
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return f"{name} must be defined in this notebook with def or class, not by `{ast.unparse(node)[:80]}`"
    forbidden, allowed = tuple(forbidden), tuple(allowed)

    def bad_module(module):
        if is_forbidden(module, forbidden, allowed):
            return f"the library {module}"
        if _match(module, DYNAMIC_MODULES):
            return f"the import machinery of {module}"
        return None

    seen = {name, *apart}

    def read(node, how):
        local = _locals_of(node) if not isinstance(node, (ast.Import, ast.ImportFrom)) else set()
        for inner in ast.walk(node):
            code = f"`{ast.unparse(inner)[:80]}` in {how}"
            if isinstance(inner, ast.Import):
                for alias in inner.names:
                    if (bad := bad_module(alias.name)):
                        return f"{how} imports {bad}"
            elif isinstance(inner, ast.ImportFrom):
                for alias in inner.names:
                    if (bad := bad_module(f"{inner.module or ''}.{alias.name}".lstrip("."))):
                        return f"{how} imports {bad}"
            elif isinstance(inner, ast.Attribute) and inner.attr in INTROSPECTION and (
                    inner.attr != "modules" or _is_sys(inner.value, bound, local)):
                return f"{code} reaches the interpreter's machinery ({inner.attr})"
            elif isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and \
                    inner.func.id in ("getattr", "setattr", "delattr") and inner.func.id not in local:
                if len(inner.args) < 2 or not isinstance(inner.args[1], ast.Constant):
                    return f"{code} looks up a computed attribute name"
                if inner.args[1].value in INTROSPECTION:
                    return f"{code} reaches the interpreter's machinery ({inner.args[1].value})"
            elif isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Load) and inner.id not in local:
                if inner.id in DYNAMIC_NAMES:
                    return f"{code} loads code by name ({inner.id})"
                if inner.id in seen:
                    continue
                seen.add(inner.id)
                target = bound.get(inner.id)
                if target is not None and (problem := read(target, f"`{inner.id}` (used by {how})")):
                    return problem
        return None

    return read(node, name)
