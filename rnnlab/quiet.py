"""TensorFlow's start-up lines kept off the pages, and nothing else hidden.

``import tensorflow`` (also done by ``import keras``) writes lines like these from C++,
straight to file descriptor 2, before it reads ``TF_CPP_MIN_LOG_LEVEL``:

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 00:00:1795651606.479005   17975 port.cc:153] oneDNN custom operations are on. ...
    I0000 00:00:1795651606.479348   17975 cudart_stub.cc:31] Could not find cuda drivers ...

No environment variable silences them, and a notebook kernel forwards them into the page
(myst-nb merges stderr into stdout, so a ``remove-stderr`` tag does not catch them).
:func:`install`, run by ``import rnnlab``, therefore wraps the first import of TensorFlow:
file descriptor 2 goes to a temporary file while TensorFlow initialises, and afterwards every
line that is not start-up noise (:func:`drop_startup_noise`) is written back to stderr. Import
rnnlab before TensorFlow or Keras, as every chapter does.
"""
import importlib.abc
import importlib.machinery
import os
import re
import sys
import tempfile

# Informational C++ log lines (severity I) and the two absl start-up banners.
_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|I\d{4} [\d:. ]+\s+\d+ \w+\.cc:\d+\] .*"
    r"|To enable the following instructions: .*rebuild TensorFlow with the appropriate "
    r"compiler flags\.)$")


def drop_startup_noise(text: str) -> str:
    """``text`` without TensorFlow's informational start-up lines; every other line kept."""
    return "".join(line for line in text.splitlines(keepends=True)
                   if not _NOISE.match(line.rstrip("\r\n")))


class _QuietLoader(importlib.abc.Loader):
    """Runs the real loader with fd 2 captured, then writes back what is not noise."""

    def __init__(self, loader):
        self._loader = loader

    def __getattr__(self, name):   # everything else (resources, is_package, ...) as before
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        _uninstall()          # the real import is happening: later imports need no help
        sys.stderr.flush()
        saved = os.dup(2)
        with tempfile.TemporaryFile(mode="w+b") as captured:
            os.dup2(captured.fileno(), 2)
            try:
                self._loader.exec_module(module)
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                captured.seek(0)
                rest = drop_startup_noise(captured.read().decode(errors="replace"))
                if rest:
                    sys.stderr.write(rest)


class _QuietFinder(importlib.abc.MetaPathFinder):
    """Finds the top-level ``tensorflow`` package as usual and gives it a quiet loader; it
    removes itself when that loader runs. A look-up that loads nothing (PyTorch's compiler
    asks ``importlib.util.find_spec("tensorflow")``) leaves it in place for the real import."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def install() -> None:
    """Make the next ``import tensorflow`` quiet (nothing to do once it is imported)."""
    if "tensorflow" in sys.modules or any(isinstance(f, _QuietFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _QuietFinder())


def _uninstall() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _QuietFinder)]
