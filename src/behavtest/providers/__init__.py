"""Model providers: one small protocol (``base.Provider``) and the kinds of model
specs (``kind.ProviderKind``) registered by prefix (``registry``)."""

from behavtest.providers.base import Completion, Messages, Provider, Request, to_messages
from behavtest.providers.kind import ProviderConfig, ProviderKind
from behavtest.providers.registry import (
    DEFAULT_MODEL,
    expand_spec,
    fingerprint_without_loading,
    kind_of,
    load_provider,
    split_spec,
    validate_spec,
)

__all__ = [
    "DEFAULT_MODEL",
    "Completion",
    "Messages",
    "Provider",
    "ProviderConfig",
    "ProviderKind",
    "Request",
    "expand_spec",
    "fingerprint_without_loading",
    "kind_of",
    "load_provider",
    "split_spec",
    "to_messages",
    "validate_spec",
]
