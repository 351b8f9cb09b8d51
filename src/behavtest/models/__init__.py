"""Model providers behind one small protocol (see ``base.Provider``)."""

from behavtest.models.base import Completion, Messages, Provider, Request, to_messages
from behavtest.models.hf import HFOptions
from behavtest.models.registry import DEFAULT_MODEL, load_provider, split_spec, validate_spec

__all__ = [
    "DEFAULT_MODEL",
    "Completion",
    "HFOptions",
    "Messages",
    "Provider",
    "Request",
    "load_provider",
    "split_spec",
    "to_messages",
    "validate_spec",
]
