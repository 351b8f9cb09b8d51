"""Model providers: one small protocol (``base.Provider``) and the kinds of model
specs (``kind.ProviderKind``) registered by prefix (``registry``); a model
folder's card (``card.ModelCard``)."""

from behavtest.providers.base import Completion, Messages, Provider, Request, to_messages
from behavtest.providers.card import ModelCard
from behavtest.providers.kind import ProviderConfig, ProviderKind
from behavtest.providers.local import trained_spec
from behavtest.providers.registry import (
    DEFAULT_MODEL,
    expand_spec,
    fingerprint_without_loading,
    kind_of,
    load_provider,
    split_spec,
    validate_spec,
    weights_folder,
)

__all__ = [
    "DEFAULT_MODEL",
    "Completion",
    "Messages",
    "ModelCard",
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
    "trained_spec",
    "validate_spec",
    "weights_folder",
]
