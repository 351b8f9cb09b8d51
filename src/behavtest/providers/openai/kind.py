"""OpenAIKind: the ``openai/`` spec prefix."""

from __future__ import annotations

from dataclasses import replace

from behavtest.providers.base import Provider
from behavtest.providers.kind import ProviderConfig, ProviderKind
from behavtest.providers.openai.config import (
    OpenAIOptions,
    check_model_name,
    resolve_base_url,
    spec_fingerprint,
)
from behavtest.providers.openai.provider import OpenAIProvider


class OpenAIKind(ProviderKind):
    """``openai/<model>``: OpenAI, or any OpenAI-compatible server given by the
    run's base URL (``ProviderConfig.base_url``, from ``--behav-base-url``), else
    ``$BEHAVTEST_BASE_URL``, else ``$OPENAI_BASE_URL``, else the OpenAI API.

    Validating and fingerprinting need neither the ``openai`` package nor a key
    nor the network: a fully cached rerun makes no call. The other knobs
    (concurrency, timeout, logprob fallback) come from the environment
    (:meth:`OpenAIOptions.from_env`).
    """

    prefix = "openai"

    def validate(self, name: str, config: ProviderConfig) -> None:
        check_model_name(name)
        resolve_base_url(config.base_url)  # a malformed URL fails here, before any test

    def fingerprint(self, name: str, config: ProviderConfig) -> str | None:
        return spec_fingerprint(name, config.base_url)

    def load(self, name: str, config: ProviderConfig) -> Provider:
        options = replace(OpenAIOptions.from_env(), base_url=config.base_url)
        return OpenAIProvider(name, options)
