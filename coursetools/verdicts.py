"""Verdicts a student cannot forge: a test cell runs in a trusted interpreter; the student's
names are remote proxies that return data.

At grading, the student's kernel runs only the notebook's non-test cells. The grader keeps a
trusted namespace per notebook (:class:`TrustedNotebook`): it runs the *source* notebook's
own given code (setup and helper cells from ``solutions/``) and its test cells, public and
hidden parts, there. Every name that the source notebook's answer cells define at top level
is bound in that namespace to a :class:`Remote`: calling it, reading an attribute or
iterating over it sends a small, stateless probe to the kernel, which calls the student's
object on the decoded arguments and answers with **data** (:func:`encode`: JSON with arrays
as base64 ``.npy``, read back with ``allow_pickle=False``). A result that is not data (a
model object) stays in the kernel and comes back as a handle, another :class:`Remote`.

So whatever a submission does to its own interpreter (its names, IPython's hooks, patched
modules or builtins, an early exit) can only change the data that comes back, and the data
must be right to pass. The kernel is reached through a :class:`Kernel`: the sandboxed
nbclient kernel at autograde (:mod:`coursetools.grading`) or, for the fast fairness tests, a
namespace in this process (:class:`InProcessKernel`): one engine, tested both ways.

A setup cell tagged ``kernel-helper`` in the source notebook is a given helper that must run
beside the answers (it rebinds or counts the notebook's own functions, or calls an answer
thousands of times): its names are remote too, so a test trusts the data it returns.
"""
import ast
import builtins
import contextlib
import io
import json
import secrets
import sys

import numpy as np

KERNEL_HELPER_TAG = "kernel-helper"
MESSAGE_LIMIT = 1000                  # characters of a failing test's message in feedback
ANSWER_LIMIT = 256 * 2**20            # bytes of one probe's answer the grader reads at most


class StudentError(Exception):
    """An exception raised by the student's code whose type is not a builtin one."""


class KernelGone(BaseException):
    """The kernel died or stopped answering: no test can catch this and pass."""


def is_test_cell(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_answer_cell(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("solution"))


def bound_names(source: str) -> set[str]:
    """Names a cell binds at top level (def, class, assignment, import, for, with)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
        else:
            targets = {ast.Assign: lambda n: n.targets, ast.AnnAssign: lambda n: [n.target],
                       ast.AugAssign: lambda n: [n.target], ast.For: lambda n: [n.target],
                       ast.With: lambda n: [i.optional_vars for i in n.items if i.optional_vars]}
            for kind, get in targets.items():
                if isinstance(node, kind):
                    for target in get(node):
                        names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def remote_names(source_nb) -> set[str]:
    """The names the source notebook's answer cells and kernel helpers define."""
    names = set()
    for cell in source_nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if is_answer_cell(cell) or (cell.cell_type == "code" and KERNEL_HELPER_TAG in tags):
            names |= bound_names(cell.source)
    return names


def preload(source_nb) -> list[str]:
    """Import here the modules that the source notebook's given code imports (the trusted side
    runs that code for every submission). A grader that forks one process per submission calls
    this once per assignment before forking, so that no child imports PyTorch or scikit-learn
    again; modules already imported cost nothing. Returns the names it could not import."""
    import importlib

    from coursetools.sandbox import given_imports
    missing = []
    for name in sorted(given_imports(source_nb)):
        if name in sys.modules:
            continue
        try:
            importlib.import_module(name)
        except ImportError:
            parent = name.rpartition(".")[0]   # `from package import name`: name is no module
            if not parent or parent not in sys.modules:
                missing.append(name)
    return missing


# ---- data: what crosses between the kernel and the grader ----------------------------------
# The same source runs in the kernel (sent with every probe) and here (exec'd below), so the
# two sides cannot disagree on the format.

CODEC = r'''
import base64, builtins, contextlib, io, json, sys
import numpy as np


def _npy(array):
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode()


def _array(text):
    return np.load(io.BytesIO(base64.b64decode(text)), allow_pickle=False)


class NotData(Exception):
    pass


def encode(obj, keep=None, depth=0):
    """JSON-able data for obj; what is not data goes to keep(obj) (a handle) or raises."""
    if depth > 50:
        raise NotData("nested too deeply")
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if type(obj) in (int, float):
        return obj if type(obj) is int or obj == obj and abs(obj) != float("inf") else {"$": "float", "v": repr(obj)}
    if isinstance(obj, np.ndarray) and obj.dtype != object:
        return {"$": "nd", "npy": _npy(obj)}
    if isinstance(obj, np.generic) and not isinstance(obj, np.object_):
        return {"$": "np", "npy": _npy(np.asarray(obj))}
    if type(obj) in (list, tuple, set, frozenset):
        items = [encode(x, keep, depth + 1) for x in obj]
        return items if type(obj) is list else {"$": type(obj).__name__, "items": items}
    if type(obj) is dict:
        return {"$": "dict", "items": [[encode(k, keep, depth + 1), encode(v, keep, depth + 1)]
                                       for k, v in obj.items()]}
    if type(obj) is slice:
        return {"$": "slice", "items": [encode(x, keep, depth + 1) for x in (obj.start, obj.stop, obj.step)]}
    if type(obj) is bytes:
        return {"$": "bytes", "b64": base64.b64encode(obj).decode()}
    if isinstance(obj, np.random.Generator):
        return {"$": "rng", "state": encode(obj.bit_generator.state, None, depth + 1),
                "kind": type(obj.bit_generator).__name__}
    kind = type(obj).__module__.split(".")[0]
    if kind == "torch" and type(obj).__name__ in ("Tensor", "Parameter") and type(obj).__module__.startswith("torch"):
        return {"$": "torch", "npy": _npy(obj.detach().cpu().numpy()), "dtype": str(obj.dtype)}
    if kind == "pandas" and type(obj).__name__ == "Series":
        return {"$": "series", "values": encode(obj.to_numpy(), None, depth + 1),
                "index": encode(obj.index.to_numpy(), None, depth + 1),
                "name": encode(obj.name, None, depth + 1)}
    if keep is not None:
        return keep(obj)
    raise NotData(f"{type(obj).__module__}.{type(obj).__qualname__} is not data")


def decode(data, resolve=None):
    """The object for data; {"$": "ref"|"handle"} go to resolve(data)."""
    if isinstance(data, list):
        return [decode(x, resolve) for x in data]
    if not isinstance(data, dict):
        return data
    tag = data["$"]
    if tag == "float":
        return float(data["v"])
    if tag in ("nd", "np"):
        array = _array(data["npy"])
        return array if tag == "nd" else array[()]
    if tag in ("tuple", "set", "frozenset"):
        return getattr(builtins, tag)(decode(x, resolve) for x in data["items"])
    if tag == "dict":
        return {decode(k, resolve): decode(v, resolve) for k, v in data["items"]}
    if tag == "slice":
        return slice(*(decode(x, resolve) for x in data["items"]))
    if tag == "bytes":
        return base64.b64decode(data["b64"])
    if tag == "rng":
        bits = getattr(np.random, data["kind"])()
        bits.state = decode(data["state"], resolve)
        return np.random.Generator(bits)
    if tag == "torch":
        import torch
        return torch.from_numpy(_array(data["npy"]).copy())
    if tag == "series":
        import pandas as pd
        index = pd.Index(decode(data["index"], resolve))
        if isinstance(index, pd.DatetimeIndex):
            with contextlib.suppress(ValueError, TypeError):
                index = pd.DatetimeIndex(index, freq="infer")
        return pd.Series(decode(data["values"], resolve), index=index, name=decode(data["name"], resolve))
    if resolve is None:
        raise ValueError(f"unexpected {tag}")
    return resolve(data)
'''

# The kernel's side of a probe: run one request, print one answer line between two nonces.
# Whatever the student changed in the kernel, this can only answer with other data.
RUNTIME = CODEC + r'''

def _copy_back(args):
    """What in-place changes did to the arguments (arrays, lists, dicts, generators)."""
    out = []
    for value in args:
        try:
            mutable = isinstance(value, (np.ndarray, list, dict, np.random.Generator))
            out.append(encode(value) if mutable else None)
        except NotData:
            out.append(None)
    return out


def probe(request, space):
    handles = space.setdefault("__verdict_handles__", {})
    req = json.loads(request)

    def keep(obj):
        key = len(handles) + 1
        handles[key] = obj
        return {"$": "handle", "id": key,
                "type": f"{type(obj).__module__}.{type(obj).__qualname__}",
                "callable": callable(obj)}

    def resolve(ref):
        return handles[ref["id"]] if ref["$"] == "handle" else space[ref["name"]]

    answer = {}
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            op = req["op"]
            if op == "names":
                result = {}
                for name in req["names"]:
                    if name in space:
                        value = space[name]
                        result[name] = {"$": "callable"} if callable(value) else encode(value, keep)
                answer["value"] = encode(result, keep)
            else:
                target = resolve(req["target"])
                args = [decode(a, resolve) for a in req.get("args", [])]
                kwargs = {k: decode(v, resolve) for k, v in req.get("kwargs", {}).items()}
                if op == "call":
                    value = target(*args, **kwargs)
                elif op == "getattr":
                    value = getattr(target, req["attr"])
                elif op == "getitem":
                    value = target[args[0]]
                elif op == "list":
                    value = list(target)
                elif op == "len":
                    value = len(target)
                elif op == "array":
                    value = np.asarray(target)
                else:
                    raise ValueError(op)
                answer["value"] = encode(value, keep)
                answer["args"] = _copy_back(args)
                answer["kwargs"] = dict(zip(kwargs, _copy_back(kwargs.values())))
    except BaseException as err:  # the student's exception (or exit) is data too
        answer = {"error": [type(err).__name__, str(err)[:2000]]}
    text = json.dumps(answer)
    sys.stdout.write("\n" + req["nonce"] + text + req["nonce"] + "\n")
    sys.stdout.flush()
'''

_codec: dict = {"__name__": "coursetools.verdicts.codec"}
exec(compile(CODEC, "<verdict codec>", "exec"), _codec)  # noqa: S102 (our own source above)
encode, decode, NotData = _codec["encode"], _codec["decode"], _codec["NotData"]


RUNTIME_MODULE = "__verdict_probe__"     # where the kernel keeps the runtime between probes


def probe_source(request: dict, runtime: bool = True) -> str:
    """The code of one probe; it binds no name of the notebook. With ``runtime`` it defines the
    runtime first (a module of its own in ``sys.modules``); without, it uses the one defined
    before, or answers ``{"runtime": "missing"}`` so that the grader sends it again. The
    kernel keeping the runtime changes no verdict: whatever the student's code does to it can
    only change the data that comes back, as their own functions can."""
    text = json.dumps(request)
    if runtime:
        return ("(lambda __v: (exec(" + repr(RUNTIME) + ", __v.__dict__), "
                f"__import__('sys').modules.__setitem__({RUNTIME_MODULE!r}, __v), "
                f"__v.probe({text!r}, globals())))(__import__('types').ModuleType("
                f"{RUNTIME_MODULE!r}))")
    missing = "\n" + request["nonce"] + '{"runtime": "missing"}' + request["nonce"] + "\n"
    return (f"(lambda __v: __v.probe({text!r}, globals()) if callable(getattr(__v, 'probe', "
            f"None)) else print({missing!r}, end=''))(__import__('sys').modules.get("
            f"{RUNTIME_MODULE!r}))")


# ---- the kernel, two ways -------------------------------------------------------------------

class Kernel:
    """Runs one probe's code beside the student's answers and returns what it printed."""

    def run(self, code: str) -> str:
        raise NotImplementedError


class InProcessKernel(Kernel):
    """The student's namespace in this process (tests only: no sandbox, no protection)."""

    def __init__(self, namespace: dict):
        self.namespace = namespace

    def run(self, code: str) -> str:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            try:
                exec(compile(code, "<verdict probe>", "exec"), self.namespace)  # noqa: S102
            except BaseException as err:  # noqa: BLE001 (no answer is the outcome)
                out.write(f"\n[the probe failed: {type(err).__name__}]\n")
        return out.getvalue()


# ---- proxies --------------------------------------------------------------------------------

def _exception(name: str, message: str) -> BaseException:
    kind = getattr(builtins, name, None)
    if isinstance(kind, type) and issubclass(kind, Exception) and kind is not StopIteration:
        with contextlib.suppress(Exception):
            return kind(message)
    return StudentError(f"{name}: {message}")


def _class_named(dotted: str):
    """The class ``module.qualname`` when its module is installed code already loaded here."""
    module, _, qualname = dotted.rpartition(".")
    while module and module not in sys.modules:
        module, _, outer = module.rpartition(".")
        qualname = f"{outer}.{qualname}"
    if not module or module == "__main__":
        return None
    obj = sys.modules[module]
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj if isinstance(obj, type) else None


class Remote:
    """An object of the kernel: a name of the notebook or a handle. Every use is a probe."""

    def __init__(self, engine, target: dict, type_name: str = "", label: str = ""):
        object.__setattr__(self, "_engine", engine)
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_type_name", type_name)
        object.__setattr__(self, "__name__", label or target.get("name", "object"))

    def _ask(self, op, *args, **fields):
        return self._engine.ask(op, self._target, *args, **fields)

    def __call__(self, *args, **kwargs):
        return self._engine.ask("call", self._target, *args, kwargs=kwargs)

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return self._ask("getattr", attr=attr)

    def __getitem__(self, key):
        return self._ask("getitem", key)

    def __iter__(self):
        return iter(self._ask("list"))

    def __len__(self):
        return self._ask("len")

    def __array__(self, dtype=None, copy=None):
        value = np.asarray(self._ask("array"))
        return value.astype(dtype) if dtype is not None else value

    @property
    def __class__(self):
        return _class_named(self._type_name) or Remote

    def __repr__(self):
        return f"<{self._type_name or 'object'} of the notebook: {self.__name__}>"


class TrustedNotebook:
    """One notebook's trusted namespace: given code and tests from the source notebook,
    the student's names as :class:`Remote` objects reached through ``kernel``."""

    def __init__(self, source_nb, kernel: Kernel, submitted_sources=(), on_dead=None):
        self.kernel = kernel
        self.names = sorted(remote_names(source_nb))
        self.submitted_sources = list(submitted_sources)   # code of the submission, for own work
        self.cells = [c for c in source_nb.cells if c.cell_type == "code"]
        self.done = 0                                       # source code cells run so far
        self.namespace = {"__name__": "__main__", "__builtins__": builtins}
        self.setup_errors = []
        self.dead = False
        self.callables = set()          # answers seen callable: bound by name, no probe again
        self.runtime_sent = False       # the kernel holds the probe runtime (sent once)
        # names the given code itself reads (its functions may read an answer's variable)
        self.given_uses = set().union(*(_names_read(c.source) for c in self.cells
                                        if not is_answer_cell(c) and not is_test_cell(c)))

    # -- probes
    def ask(self, op, target, *args, kwargs=None, **fields):
        if self.dead:
            raise KernelGone("the kernel is gone")
        nonce = secrets.token_hex(16)
        request = {"op": op, "target": target, "nonce": nonce, **fields,
                   "args": [self._send(a) for a in args],
                   "kwargs": {k: self._send(v) for k, v in (kwargs or {}).items()}}
        with_runtime = not self.runtime_sent
        text = self.kernel.run(probe_source(request, runtime=with_runtime))
        self.runtime_sent = True
        # the answer is a line "<nonce>{...}<nonce>": a hook that echoes the probe's source
        # (where the nonce stands in quotes) does not look like one
        start = text.find(f"\n{nonce}{{")
        end = text.find(f"{nonce}\n", start + len(nonce) + 1) if start >= 0 else -1
        try:
            answer = json.loads(text[start + 1 + len(nonce):end]) if start >= 0 <= end else None
        except ValueError:
            answer = None
        if answer == {"runtime": "missing"} and not with_runtime:   # the notebook removed it
            self.runtime_sent = False
            return self.ask(op, target, *args, kwargs=kwargs, **fields)
        if not isinstance(answer, dict) or not ("value" in answer or "error" in answer):
            raise StudentError("the notebook's kernel gave no answer when the test asked it "
                               f"for {target.get('name', 'an object')}")
        if "error" in answer:
            raise _exception(*answer["error"])
        value = decode(answer["value"], self._handle)
        for sent, back in zip(args, answer.get("args", [])):
            _copy_into(sent, back, self._handle)
        for key, back in answer.get("kwargs", {}).items():
            _copy_into((kwargs or {}).get(key), back, self._handle)
        return value

    def _handle(self, data):
        if data["$"] != "handle":
            raise ValueError(data)
        return Remote(self, {"$": "handle", "id": data["id"]}, data.get("type", ""))

    def _send(self, value):
        """Data for an argument; a Remote or a given function goes by reference."""
        if type(value) is Remote:
            return object.__getattribute__(value, "_target")
        if callable(value) and not isinstance(value, (np.ndarray, type)) and \
                getattr(value, "__module__", None) == "__main__" and \
                self.namespace.get(getattr(value, "__name__", None)) is value:
            return {"$": "ref", "name": value.__name__}   # a given function, by its name
        try:
            return encode(value, None)
        except NotData as err:
            raise TypeError(f"the grader cannot send {err} to the notebook's kernel: "
                            "this test must pass data (or a function of the given code)") from None

    # -- cells
    def _bind_remote_names(self, source: str):
        """The current value of each answer that ``source`` or the given code reads: data as
        it is, anything else as a Remote. A callable is called by its name in the kernel at
        each call, so once seen callable it needs no probe to stay current."""
        wanted = (_names_read(source) | self.given_uses) & set(self.names)
        for name in wanted & self.callables:
            self.namespace[name] = Remote(self, {"$": "ref", "name": name})
        asked = sorted(wanted - self.callables)
        if not asked:
            return
        values = self.ask("names", {"name": "__names__"}, names=asked)
        for name in asked:
            value = values.get(name)
            if name not in values:
                self.namespace.pop(name, None)
            elif isinstance(value, dict) and value.get("$") == "callable":
                self.callables.add(name)
                self.namespace[name] = Remote(self, {"$": "ref", "name": name})
            else:
                self.namespace[name] = value

    def _exec(self, source: str):
        code = compile(source, "<test>", "exec")
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            exec(code, self.namespace)  # noqa: S102 (the course's own source notebook)

    def run_given_cells(self, upto: int):
        """The source notebook's given code cells before code cell ``upto``, not run yet."""
        for cell in self.cells[self.done:upto]:
            helper = KERNEL_HELPER_TAG in cell.get("metadata", {}).get("tags", [])
            if not is_answer_cell(cell) and not is_test_cell(cell) and not helper:
                try:
                    self._bind_remote_names(cell.source)
                    self._exec(cell.source)
                except KernelGone:
                    raise
                except BaseException as err:  # noqa: BLE001 (a test that needs it will fail)
                    self.setup_errors.append(f"{type(err).__name__}: {err}")
        self.done = max(self.done, upto)

    def run_test(self, grade_id: str) -> tuple[str, str] | None:
        """Run the source notebook's test cell ``grade_id`` here; None when it passed, else
        (error name, message) with the message capped."""
        position = next(k for k, c in enumerate(self.cells)
                        if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)
        try:
            self.run_given_cells(position)
            self._bind_remote_names(self.cells[position].source)
            self._exec(self.cells[position].source)
        except KernelGone as err:
            self.dead = True
            return "DeadKernelError", f"the kernel died before this test finished ({err})"
        except BaseException as err:  # noqa: BLE001 (a failing test is an outcome)
            return type(err).__name__, _cap(str(err))
        finally:
            self.done = max(self.done, position + 1)
        return None


def _names_read(source: str) -> set[str]:
    try:
        return {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}
    except SyntaxError:
        return set()


def _cap(message: str) -> str:
    return message if len(message) <= MESSAGE_LIMIT else message[:MESSAGE_LIMIT] + " [...]"


def _copy_into(sent, back, handle):
    """Apply in place what the student's function did to an argument it was given."""
    if back is None or sent is None:
        return
    new = decode(back, handle)
    if isinstance(sent, np.ndarray) and isinstance(new, np.ndarray) and sent.shape == new.shape:
        if sent.flags.writeable:
            sent[...] = new
    elif isinstance(sent, dict) and isinstance(new, dict):
        for key, value in new.items():
            if isinstance(sent.get(key), (np.ndarray, dict, list)):
                _copy_into(sent[key], encode(value, None), handle)
            else:
                sent[key] = value
        for key in set(sent) - set(new):
            del sent[key]
    elif isinstance(sent, list) and isinstance(new, list):
        sent[:] = new
    elif isinstance(sent, np.random.Generator) and isinstance(new, np.random.Generator):
        sent.bit_generator.state = new.bit_generator.state


# ---- what the instructor should look at: a static scan, outside any kernel ----------------

SUSPICIOUS_NAMES = {"get_ipython", "In", "Out", "_ih", "_oh", "_ii", "_iii", "__builtins__",
                    "exec", "eval", "compile", "__import__", "globals", "locals", "vars",
                    "breakpoint", "setattr", "delattr"}
SUSPICIOUS_ATTRIBUTES = {"input_transformers_cleanup", "input_transformers_post",
                         "ast_transformers", "events", "run_cell", "run_cell_async",
                         "user_ns", "modules", "__builtins__", "__dict__", "__globals__",
                         "__code__", "__subclasses__", "_exit", "meta_path", "displayhook",
                         "excepthook", "settrace", "setprofile"}
SUSPICIOUS_MODULES = {"pickle", "marshal", "ctypes", "importlib", "builtins", "dill",
                      "cloudpickle", "gc", "IPython", "ipykernel", "runpy", "code", "atexit",
                      "signal", "subprocess", "multiprocessing"}


def suspicious(cells_sources) -> list[str]:
    """What in a submitted notebook's code reaches for the interpreter's machinery rather
    than computing an answer (introspection of the shell, In/Out, serialisation, module
    dictionaries, builtins, exits, patching a module): a list of short findings, for the
    instructor to read. It changes no points: the verdicts do not depend on any of it."""
    found = []
    for source in cells_sources:
        lines = source.splitlines()
        if any(line.lstrip().startswith(("%", "!")) for line in lines):
            found.append("IPython magic or shell line")
        code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)
        try:
            tree = ast.parse(code)
        except SyntaxError:
            found.append("code that does not parse")
            continue
        modules = {(a.asname or a.name).split(".")[0] for node in ast.walk(tree)
                   if isinstance(node, ast.Import) for a in node.names}
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in SUSPICIOUS_NAMES:
                found.append(node.id)
            elif isinstance(node, ast.Attribute) and node.attr in SUSPICIOUS_ATTRIBUTES:
                found.append(f".{node.attr}")
            elif isinstance(node, ast.Import):
                found += [a.name for a in node.names if a.name.split(".")[0] in SUSPICIOUS_MODULES]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in SUSPICIOUS_MODULES:
                found.append(node.module)
            elif isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete)):
                targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) \
                            and target.value.id in modules | {"np", "numpy", "sys", "builtins"}:
                        found.append(f"assigns {ast.unparse(target)}")
    return sorted(set(found))
