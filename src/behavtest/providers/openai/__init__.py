"""The ``openai/`` provider: chat completions from OpenAI or any compatible server.

``openai/<model>`` talks to the run's base URL (``--behav-base-url``, which
reaches the kind as ``ProviderConfig.base_url``), else ``$BEHAVTEST_BASE_URL``,
else ``$OPENAI_BASE_URL`` (the client's own variable), else the OpenAI API.
vLLM, llama.cpp's server, llama-cpp-python's server and ``transformers serve``
all speak this protocol.

Why the official ``openai`` client: it already retries what should be retried,
with exponential backoff and jitter, and behavtest adds only what it lacks.
What is retried, exactly:

- by the client (``max_retries``, default 6 here): connection errors,
  timeouts, and the statuses 408, 409, 429 and every 5xx. A ``Retry-After``
  (or ``retry-after-ms``) is honoured (openai 3.x: waited for exactly up to
  2 minutes, longer is not retried); otherwise it waits 0.5 s doubling to at
  most 8 s, minus up to 25 % jitter. A body cut off mid-transfer is a
  connection error and is retried too.
- by behavtest (``malformed_retries``, default 3, backoff 0.5 s doubling): a
  2xx whose body is not a chat completion (malformed or truncated JSON, an
  HTML page from a proxy, no choices). The client would hand those back as
  an exception or a bare string without retrying.
- nothing else: 400, 401, 403, 404 and 422 cannot succeed on a retry and
  raise a :class:`~behavtest.errors.ProviderError` (a 404:
  :class:`~behavtest.errors.ModelNotFound`) at once, with one line naming the
  problem and the fix.

"n emulation": every :class:`~behavtest.providers.Request` is one call with
``n=1`` and the request's own seed. llama.cpp's servers silently ignore
``n > 1``, and one call per sample is what keeps sample *i* of a prompt
cacheable on its own, as the local providers do. Whether a server draws the
same text for the same seed depends on the server: llama-cpp-python 0.3.36
does not when requests arrive in another order (its sampler state carries
over between requests with the same prompt; measured in
tests/test_openai_faults.py), so reruns are reproducible because the cache
replays them. Calls run concurrently (``concurrency``, default 8) on a
private event loop; results come back in request order. The provider's
``batch_size`` (4 x concurrency) tells the model handle how many requests to
hand over at once.

The API key is read from ``$OPENAI_API_KEY`` when a client is built and is
never stored by behavtest, logged, or put in a fingerprint, repr or error
message (messages are scrubbed of it). A local server without auth gets the
placeholder key ``"not-needed"``.

Identity: OpenAI models are known by name alone (a snapshot name such as
``gpt-4.1-2025-04-14`` is immutable; an alias such as ``gpt-4.1`` is not, so
pin snapshots). The fingerprint is ``openai/<model>@<host[:port]/path>``,
computed from the spec and base URL without a network call, so a fully
cached rerun makes none. A local server's weights can change under the same
name: give each model its own served name (``--served-model-name``,
``--model_alias``), or rerun with ``--behav-cache refresh``. What the server
reports about the model is in :meth:`OpenAIProvider.describe`.

Modules: ``config`` (base URL, identity, options, usage; no network),
``failures`` (the exceptions and the one-line translation of the client's),
``logprobs`` (option probabilities from the API's answers), ``prefill`` (continuing
an assistant message through a server's own template), ``loop`` (the
private event-loop thread), ``provider`` (:class:`OpenAIProvider`) and
``kind`` (:class:`OpenAIKind`, the ``openai/`` prefix). Inside this package
``import openai`` is an absolute import: it names the SDK, imported lazily
when a provider is built.
"""

from behavtest.providers.openai.config import (
    OFFICIAL_BASE_URL,
    APIUsage,
    OpenAIOptions,
    check_model_name,
    is_official,
    reduce_seed,
    resolve_base_url,
    scrub,
    spec_fingerprint,
    where,
)
from behavtest.providers.openai.failures import APIRequestFailed, LogprobsUnavailable
from behavtest.providers.openai.kind import OpenAIKind
from behavtest.providers.openai.logprobs import label_logprobs
from behavtest.providers.openai.provider import OpenAIProvider

__all__ = [
    "OFFICIAL_BASE_URL",
    "APIRequestFailed",
    "APIUsage",
    "LogprobsUnavailable",
    "OpenAIKind",
    "OpenAIOptions",
    "OpenAIProvider",
    "check_model_name",
    "is_official",
    "label_logprobs",
    "reduce_seed",
    "resolve_base_url",
    "scrub",
    "spec_fingerprint",
    "where",
]
