"""Sampling a model: the handle a test holds as ``model``, and the sample cache.

A :class:`ModelHandle` draws replies and option probabilities from a provider
and stores every completion in the :class:`SampleCache` under what determines
it, so that a rerun with the same seed costs nothing.
"""

from behavtest.sampling.cache import SampleCache
from behavtest.sampling.handle import ModelHandle, Reply, Samples

__all__ = ["ModelHandle", "Reply", "SampleCache", "Samples"]
