"""rnnlab: the helper library of the course *Recurrent Neural Networks, from equations to
working models*.

What several chapters, exercises, tests and benchmarks need lives here, one idea per
module: ``seeding`` (reproducibility), ``device`` (CPU/GPU and the quick/full scale),
``shapes`` (clear shape errors), ``numpy_nets`` (the networks in NumPy, written like the
equations), ``data`` (corpora from installed packages), ``figures`` (the book's plots).

Importing rnnlab quietens TensorFlow's C++ logging, so import it before TensorFlow.
"""
import os

# TensorFlow reads this once, at its first import: set it before anyone imports TF.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from rnnlab.seeding import seed_everything

__all__ = ["seed_everything"]
__version__ = "0.1.0"
