"""Chat fine-tuning files in OpenAI's JSONL format: written atomically, validated.

One JSON object per line, ``{"messages": [...]}``, each message a role
(system, user or assistant) and non-empty string content, the last one the
assistant's: what OpenAI's fine-tuning API accepts for chat models, and what
the local builder trains on. ``validate_jsonl`` checks a file line by line
and stops at the first bad line with one line naming it and the fix.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from behavtest.errors import InvalidArgument
from behavtest.files import write_atomic

ROLES = ("system", "user", "assistant")


def check_example(example: Any, where: str) -> None:
    """A one-line InvalidArgument unless ``example`` is a valid chat example."""
    if not isinstance(example, dict) or "messages" not in example:
        raise InvalidArgument(f"{where}: not a JSON object with 'messages'; fix: write "
                              '{"messages": [{"role": "user", "content": ...}, ...]}')
    messages = example["messages"]
    if not isinstance(messages, list) or not messages:
        raise InvalidArgument(f"{where}: 'messages' must be a non-empty list; fix: give the "
                              "user's and the assistant's messages")
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise InvalidArgument(f"{where}: message {i} is not an object; fix: "
                                  '{"role": ..., "content": ...}')
        role, content = message.get("role"), message.get("content")
        if role not in ROLES:
            raise InvalidArgument(f"{where}: message {i} has role {role!r}; fix: one of "
                                  f"{', '.join(ROLES)}")
        if not isinstance(content, str) or not content.strip():
            raise InvalidArgument(f"{where}: message {i} ({role}) has no text content; fix: "
                                  "a non-empty string")
    if messages[-1]["role"] != "assistant":
        raise InvalidArgument(f"{where}: the last message is the {messages[-1]['role']}'s; "
                              "fix: end each example with the assistant's reply (what is "
                              "trained)")
    if not any(m["role"] == "user" for m in messages):
        raise InvalidArgument(f"{where}: no user message; fix: add the user's turn")


def dumps(examples: Sequence[dict[str, Any]]) -> str:
    """The examples as JSONL text, after checking each."""
    lines = []
    for i, example in enumerate(examples, 1):
        check_example(example, f"example {i}")
        lines.append(json.dumps(example, ensure_ascii=False))
    return "\n".join(lines) + "\n"


def write_jsonl(path: Path, examples: Sequence[dict[str, Any]]) -> None:
    """Write the examples as OpenAI chat fine-tuning JSONL (temp file + rename)."""
    if not examples:
        raise InvalidArgument(f"{path}: no examples to write; fix: generate at least one")
    write_atomic(path, dumps(examples))


def validate_jsonl(path: Path) -> int:
    """Check every line of a chat fine-tuning file; returns the number of examples."""
    if not path.is_file():
        raise InvalidArgument(f"{path} does not exist; fix: pass a .jsonl file")
    count = 0
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                raise InvalidArgument(f"{path}:{number}: empty line; fix: remove it (one "
                                      "example per line)")
            try:
                example = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidArgument(f"{path}:{number}: not JSON ({exc.msg}); fix: one JSON "
                                      "object per line") from None
            check_example(example, f"{path}:{number}")
            count += 1
    if count == 0:
        raise InvalidArgument(f"{path} holds no examples; fix: one JSON object per line")
    return count


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The examples of a validated file."""
    validate_jsonl(path)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
