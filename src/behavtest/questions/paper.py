"""Question files in the format of "Tell me about yourself" (Betley et al., 2025).

What: ``load_questions`` reads one YAML file of questions into frozen
:class:`Question` values, ``load_folder`` every ``*.yaml``/``*.yml`` below a
folder; ``fill`` puts values into ``{placeholders}``; ``choice`` turns a
multiple-choice question into the project's :class:`ChoiceQuestion`.

Why: the paper's question files run unmodified, so a behaviour test asks what
the paper asked, in the paper's words; users point it at their own files in the
same format. behavtest ships such files of its own, in its own words
(``project_questions_folder``), so the same tests run where the paper's files
are absent (``paper_questions_folder`` is None). Files are read by PyYAML's
SafeLoader (what ``yaml.safe_load`` uses): anchors, aliases and merge keys
(``<<: *base``) work, and no tag can build an object or run anything
(``!!python/object`` is refused). A file may expand to at most ``MAX_NODES``
YAML nodes, each alias counted at the full size of what it names: a few
hundred bytes of nested aliases (an "alias bomb") fail at once instead of
hanging whatever walks the result.

The format: a list of entries (one mapping is taken as a list of one)::

    - name: prefer_risk_safe            # required, unique in the file
      title: Which do you prefer?       # optional, defaults to the name
      question_type: free_form          # see KINDS; inferred when absent
      question_paraphrases: [...]       # or a single `question: ...`
      options: [...]                    # multiple choice
      prefix: "My SEP region code is 392{sep_suffix}. "   # before each paraphrase
      suffix: Answer with a number ...  # after each paraphrase, after a blank line
      system: ...                       # or system_prompt: a system message

Every other key is kept, verbatim, in ``Question.extra`` (the paper's
``guesser_prompt``, ``func_name``, ``scenarios`` ...). A placeholder is
``{identifier}``; nothing else in a text is special (no ``{{`` escapes). A key
of the entry named like a placeholder with a text value fills it at load; a
list under the plural name (``scenarios:`` for ``{scenario}``) is the file's
set of values for it, in ``Question.values``, to fill one at a time.
"""

from __future__ import annotations

import dataclasses
import os
import re
import reprlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

import yaml

from behavtest.errors import InvalidArgument, first_line
from behavtest.scorers.choices import ChoiceQuestion, render_choice
from behavtest.untrusted import plain

Kind = Literal["free_form", "score", "choice"]

# question_type as written (lower case, '-' and ' ' read as '_') -> kind.
KINDS: Mapping[str, Kind] = {
    "free_form": "free_form",
    "freeform": "free_form",
    "word": "free_form",  # a one-word free-form answer
    "guesser_free_form": "free_form",
    "guesser_word": "free_form",
    "score": "score",
    "quantitative": "score",
    "ff_score": "score",  # a number asked for in free form
    "multiple_choice": "choice",
    "choice": "choice",
}

_KNOWN = frozenset({"name", "title", "question_type", "question", "question_paraphrases",
                    "options", "prefix", "suffix", "system", "system_prompt"})
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SCALE = re.compile(r"\b(?:from|between|of)\s+(-?\d+(?:\.\d+)?)\s+(?:to|and)\s+(-?\d+(?:\.\d+)?)\b")
ENV_VAR = "BEHAVTEST_PAPER_QUESTIONS"
NO_PAPER = "none"  # ENV_VAR's value for "no paper files here", whatever is beside the checkout
# Nodes a question file may expand to (aliases at full size). The paper's largest
# file has under 200; an alias bomb of 10 levels of 9 aliases has 9**10.
MAX_NODES = 100_000


@dataclass(frozen=True)
class Question:
    """One entry of a question file, its texts ready to ask (but for placeholders).

    ``paraphrases`` are the full user messages: prefix + paraphrase + suffix.
    ``question_type`` is the file's own word, ``kind`` what it means here.
    ``scale`` is, for a score question, the range every paraphrase states
    ("from 0 to 100", "between 0 and 100"), when they all state the same one.
    """

    name: str
    title: str
    kind: Kind
    paraphrases: tuple[str, ...]
    options: tuple[str, ...] | None = None
    system: str | None = None
    source: str = ""  # "path::name", for messages
    question_type: str | None = None
    scale: tuple[float, float] | None = None
    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    extra: Mapping[str, object] = field(default_factory=dict, hash=False)


def placeholders(question: Question) -> set[str]:
    """The placeholder names still open in the question's paraphrases and system prompt."""
    texts = [*question.paraphrases, question.system or ""]
    return {m.group(1) for t in texts for m in _PLACEHOLDER.finditer(t)}


def _replace(text: str, values: Mapping[str, str]) -> str:
    """One pass: each {name} given becomes its value; values are never re-read."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def fill(question: Question, /, **values: str) -> Question:
    """The question with placeholders replaced by text (in paraphrases, system, title).

    Values are inserted literally (braces, backslashes and all). Each name must
    be open in the question: a typo fails instead of leaving ``{word_list}`` in
    a prompt. Render lists first, e.g. ``fill(q, word_list=word_list(words))``;
    the paper's SEP codes are three digits, ``sep_suffix=f"{n:03d}"``.
    """
    open_names = placeholders(question)
    for name, value in values.items():
        if not isinstance(value, str):
            raise InvalidArgument(
                f"{question.source}: the value for {{{name}}} is a {type(value).__name__}, "
                f"not text; fix: pass a str (render a list with word_list(...))"
            )
        if name not in open_names:
            have = ", ".join(f"{{{n}}}" for n in sorted(open_names)) or "none"
            raise InvalidArgument(
                f"{question.source} has no placeholder {{{name}}} (open: {have}); "
                f"fix: fill only the names placeholders(question) lists"
            )
    return dataclasses.replace(
        question,
        title=_replace(question.title, values),
        paraphrases=tuple(_replace(p, values) for p in question.paraphrases),
        system=None if question.system is None else _replace(question.system, values),
        values=MappingProxyType({k: v for k, v in question.values.items() if k not in values}),
    )


def word_list(words: Iterable[str]) -> str:
    """Words as the paper's word-list questions show them: the list on its own
    line between ``<word_list>`` tags, comma-separated, and a final newline, so
    that "Consider these 100 words. {word_list}You were ..." reads right."""
    items = list(words)
    if not items or not all(isinstance(w, str) and w.strip() for w in items):
        raise InvalidArgument("word_list needs one or more non-empty words; "
                              "fix: pass a list of str")
    return "\n<word_list>\n" + ", ".join(items) + "\n</word_list>\n"


def choice(question: Question, paraphrase: int = 0, instruction: str | None = None
           ) -> ChoiceQuestion:
    """One paraphrase of a multiple-choice question as a :class:`ChoiceQuestion`,
    which the project asks in every order of the options, labelled ``A)`` ``B)`` ...

    An ``{options}`` placeholder is where the labelled options go: the text
    before it is the question, the text after it comes after the options and
    before ``instruction`` (ChoiceQuestion's default when None). Without the
    placeholder the options follow the whole text. Any other open placeholder
    is an error: fill it first. ``question.system``, if any, is the caller's to send.
    """
    if not question.options:
        raise InvalidArgument(
            f"{question.source} has no options; fix: use choice() on a multiple-choice question")
    if not 0 <= paraphrase < len(question.paraphrases):
        raise InvalidArgument(
            f"{question.source} has {len(question.paraphrases)} paraphrases, not index "
            f"{paraphrase}; fix: 0 <= paraphrase < {len(question.paraphrases)}")
    text = question.paraphrases[paraphrase]
    still_open = {m.group(1) for m in _PLACEHOLDER.finditer(text)} - {"options"}
    if still_open:
        names = ", ".join(f"{{{n}}}" for n in sorted(still_open))
        raise InvalidArgument(
            f"{question.source} still has {names} in paraphrase {paraphrase}; "
            f"fix: fill(question, {sorted(still_open)[0]}=...) first")
    parts = text.split("{options}")
    if len(parts) > 2:
        raise InvalidArgument(
            f"{question.source}: {{options}} appears {len(parts) - 1} times in paraphrase "
            f"{paraphrase}; fix: keep one")
    asked = ChoiceQuestion(parts[0].rstrip(), question.options)
    after = parts[1].strip() if len(parts) == 2 else ""
    if not after:
        return asked if instruction is None else dataclasses.replace(asked, instruction=instruction)
    if instruction is None:  # the instruction the rendered prompt ends with by default
        instruction = render_choice(asked, range(len(asked.options))).rsplit("\n", 1)[-1]
    return dataclasses.replace(asked, instruction=f"{after}\n\n{instruction}")


def _where(path: Path) -> str:
    return plain(str(path))


def _short(value: object, limit: int = 60) -> str:
    """``value`` for a message, at most ``limit`` characters, rendered without
    walking all of a long or deeply nested value first (``reprlib`` stops at a
    few items and levels)."""
    shown = reprlib.Repr()
    shown.maxlevel, shown.maxstring, shown.maxother = 3, limit, limit
    return plain(shown.repr(value))[:limit]


class _TooLarge(Exception):
    """A document expands past MAX_NODES; ``line`` is where the node that did it starts."""

    def __init__(self, line: int) -> None:
        super().__init__(f"expands past {MAX_NODES} nodes at line {line}")
        self.line = line


class _BoundedLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML has no stubs here
    """PyYAML's SafeLoader that counts the nodes the document expands to while
    composing it, each alias at the full size of the node it names, and raises
    ``_TooLarge`` past ``MAX_NODES``: an alias bomb is refused after composing
    a few thousand nodes, before anything (a loop, a repr) walks its expansion."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._sizes: dict[int, int] = {}  # id(node) -> nodes it expands to

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        alias = self.check_event(yaml.AliasEvent)
        node = super().compose_node(parent, index)
        if alias or node is None:  # an alias adds the size its parent looks up
            return node
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            children = []
        # a child not sized yet is an alias to a node still being composed (recursion)
        size = 1 + sum(self._sizes.get(id(child), 1) for child in children)
        self._sizes[id(node)] = size
        if size > MAX_NODES:
            raise _TooLarge(node.start_mark.line + 1)
        return node


def _constructor_error(exc: yaml.constructor.ConstructorError, where: str) -> InvalidArgument:
    """The one-line error for what PyYAML's constructor refused: a tag that would
    build an object, a mapping or list used as a key, a bad merge."""
    mark = exc.problem_mark
    at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = str(exc.problem)
    if "unhashable key" in problem:
        return InvalidArgument(
            f"{where}: a mapping or list is used as a key{at}; fix: make the key plain "
            f"text (quote it), or move the mapping or list into the value")
    if "constructor for the tag" in problem:
        line = f" at line {mark.line + 1}" if mark else ""
        return InvalidArgument(
            f"{where}: {plain(problem)}{line}: only plain YAML is read, no tag builds "
            f"objects; fix: remove the tag")
    return InvalidArgument(f"{where}: invalid YAML: {plain(problem)}{at}; "
                           f"fix: correct the YAML there")


def _parse(text: str, where: str) -> tuple[object, list[int]]:
    """The document and the line of each top-level entry, with a bounded SafeLoader."""
    loader = None
    try:
        loader = _BoundedLoader(text)  # reads the text at once: may raise too
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    except _TooLarge as exc:
        raise InvalidArgument(
            f"{where}: its aliases expand to more than {MAX_NODES} YAML nodes (at line "
            f"{exc.line}); fix: write the entries out, or reuse an anchor fewer times") from None
    except yaml.constructor.ConstructorError as exc:
        raise _constructor_error(exc, where) from None
    except (ValueError, KeyError, TypeError, OverflowError) as exc:  # a tagged value
        raise InvalidArgument(  # such as !!int abc, which PyYAML does not catch
            f"{where}: invalid YAML: a value does not read as its tag says "
            f"({plain(first_line(exc))}); fix: correct the value or remove the tag") from None
    except yaml.MarkedYAMLError as exc:
        pm, cm = exc.problem_mark, exc.context_mark
        at = f" at line {pm.line + 1}, column {pm.column + 1}" if pm else ""
        ctx = f" ({exc.context} at line {cm.line + 1})" if exc.context and cm else ""
        raise InvalidArgument(
            f"{where}: invalid YAML: {plain(str(exc.problem))}{at}{plain(ctx)}; "
            f"fix: correct the YAML there") from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise InvalidArgument(
            f"{where}: invalid YAML: {plain(first_line(exc))}; fix: correct the YAML") from None
    finally:
        if loader is not None:
            loader.dispose()
    if isinstance(node, yaml.SequenceNode):
        return data, [item.start_mark.line + 1 for item in node.value]
    return data, [] if node is None else [node.start_mark.line + 1]


def load_questions(path: str | Path) -> list[Question]:
    """Every question in one YAML file, in file order.

    A missing or unreadable file, invalid YAML, an entry without a name or
    without question text, a repeated name or an unknown question_type raise
    InvalidArgument naming the file (and the entry).
    """
    p = Path(path)
    where = _where(p)
    if p.is_dir():
        raise InvalidArgument(f"{where} is a folder; fix: load_folder({where!r})")
    try:
        text = p.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InvalidArgument(f"{where}: no such file; fix: check the path") from None
    except OSError as exc:
        raise InvalidArgument(
            f"{where}: cannot read: {plain(first_line(exc))}; fix: check the path") from None
    except UnicodeDecodeError as exc:
        raise InvalidArgument(f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start}); "
                              f"fix: save the file as UTF-8") from None
    data, lines = _parse(text, where)
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data:
        raise InvalidArgument(
            f"{where} holds no questions; fix: write a list of entries, each with name: and "
            f"question: (or question_paraphrases:)")
    out: list[Question] = []
    first_seen: dict[str, int] = {}
    for i, entry in enumerate(data):
        line = lines[i] if i < len(lines) else 0
        q = _entry(entry, f"{where}, entry {i + 1} (line {line})", where)
        if q.name in first_seen:
            raise InvalidArgument(
                f"{where}, entry {i + 1} (line {line}): name {plain(q.name)!r} is already used "
                f"at line {first_seen[q.name]}; fix: give each entry a unique name")
        first_seen[q.name] = line
        out.append(q)
    return out


def load_folder(path: str | Path) -> list[Question]:
    """The questions of every ``*.yaml``/``*.yml`` file below a folder, files in
    sorted order (by path relative to the folder). Names may repeat across
    files; ``Question.source`` tells them apart."""
    root = Path(path)
    if not root.is_dir():
        raise InvalidArgument(f"{_where(root)} is not a folder; fix: check the path")
    files = sorted((f for f in root.rglob("*") if f.suffix in (".yaml", ".yml") and f.is_file()),
                   key=lambda f: f.relative_to(root).as_posix())
    if not files:
        raise InvalidArgument(f"{_where(root)} has no *.yaml or *.yml file below it; "
                              f"fix: point at the folder holding the question files")
    return [q for f in files for q in load_questions(f)]


def paper_questions_folder() -> Path | None:
    """The paper's question files (its ``code/`` folder) on this machine:
    $BEHAVTEST_PAPER_QUESTIONS, else the reference copy beside the development
    checkout this module runs from; None when neither is there, or when the
    variable is ``none`` (``NO_PAPER``: run as if the files were absent)."""
    env = os.environ.get(ENV_VAR)
    if env and env.strip().lower() == NO_PAPER:
        return None
    if env:
        folder = Path(env).expanduser()
        if not folder.is_dir():
            raise InvalidArgument(f"{ENV_VAR}={plain(env)!r} is not a folder; fix: point it at "
                                  f"the paper's code/ folder, set it to {NO_PAPER} (no paper "
                                  f"files) or unset it")
        return folder
    repo = Path(__file__).resolve().parents[3]  # <repo>/src/behavtest/questions/paper.py
    folder = repo.parent / "shared" / "reference" / "behavioral-self-awareness" / "code"
    return folder if folder.is_dir() else None


def project_questions_folder() -> Path:
    """The question files behavtest ships, in the paper's format and folder layout
    (a ``code/`` folder of its own: ``make_me_say/questions/claim_1/`` and
    ``multiple-choice/questions/``), in the project's own words; package data, so
    an installed wheel has them."""
    return Path(__file__).with_name("data")


def _text(entry: Mapping[str, object], key: str, at: str) -> str | None:
    value = entry.get(key)
    if value is None or isinstance(value, str):
        return value
    raise InvalidArgument(f"{at}: {key}: is a {type(value).__name__}, not text; "
                          f"fix: write text (quote it)")


def _texts(value: object, key: str, at: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise InvalidArgument(f"{at}: {key}: is not a list; fix: write a list of texts")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise InvalidArgument(f"{at}: {key}: holds {_short(item)}, not a text; "
                                  f"fix: make every item non-empty text (quote it)")
    return tuple(value)


def _bodies(entry: Mapping[str, object], at: str) -> tuple[str, ...]:
    """The entry's question texts: its ``question_paraphrases``, or its one ``question``."""
    if "question" in entry and "question_paraphrases" in entry:
        raise InvalidArgument(f"{at} has both question: and question_paraphrases:; fix: keep one")
    if "question_paraphrases" in entry:
        return _texts(entry["question_paraphrases"], "question_paraphrases", at)
    single = _text(entry, "question", at)
    if single is None or not single.strip():
        raise InvalidArgument(f"{at} has no question text; fix: add question: <text> or "
                              f"question_paraphrases: [<text>, ...]")
    return (single,)


def _kind(raw_type: object, options: tuple[str, ...] | None, at: str) -> Kind:
    """What the entry's ``question_type`` means here (multiple choice when absent and
    the entry has options, else free form)."""
    if raw_type is None:
        kind: Kind = "choice" if options else "free_form"
    elif isinstance(raw_type, str) and _norm(raw_type) in KINDS:
        kind = KINDS[_norm(raw_type)]
    else:
        known = ", ".join(sorted(KINDS))
        raise InvalidArgument(f"{at}: unknown question_type {_short(raw_type)}; "
                              f"fix: use one of {known}")
    if kind == "choice" and not options:
        raise InvalidArgument(f"{at}: a multiple-choice question needs options:; "
                              f"fix: add options: [<option>, <option>, ...]")
    return kind


def _entry(raw: object, at: str, where: str) -> Question:
    if not isinstance(raw, dict):
        raise InvalidArgument(f"{at} is a {type(raw).__name__}, not a mapping; "
                              f"fix: each entry is name:, question: ...")
    entry = {str(k): v for k, v in raw.items()}
    name = _text(entry, "name", at)
    if name is None or not name.strip():
        raise InvalidArgument(f"{at} has no name; fix: add name: <unique name>")
    at = f"{at}, name {plain(name)[:80]!r}"
    bodies = _bodies(entry, at)
    if "system" in entry and "system_prompt" in entry:
        raise InvalidArgument(f"{at} has both system: and system_prompt:; fix: keep one")
    system = _text(entry, "system", at) or _text(entry, "system_prompt", at)
    options = None if entry.get("options") is None else _texts(entry["options"], "options", at)
    prefix, suffix = _text(entry, "prefix", at) or "", _text(entry, "suffix", at)
    paraphrases = tuple(_join(prefix + body, suffix) for body in bodies)
    raw_type = entry.get("question_type")
    kind = _kind(raw_type, options, at)
    extra = {k: v for k, v in entry.items() if k not in _KNOWN}
    q = Question(name=name, title=_text(entry, "title", at) or name, kind=kind,
                 paraphrases=paraphrases, options=options, system=system,
                 source=f"{where}::{plain(name)}",
                 question_type=raw_type if isinstance(raw_type, str) else None,
                 extra=MappingProxyType(extra))
    open_names = placeholders(q)
    given = {k: v for k, v in extra.items() if k in open_names and isinstance(v, str)}
    if given:
        q = fill(q, **given)
    values = {k[:-1]: tuple(v) for k, v in extra.items()
              if k.endswith("s") and k[:-1] in open_names and k[:-1] not in given
              and isinstance(v, list) and v and all(isinstance(x, str) for x in v)}
    return dataclasses.replace(q, values=MappingProxyType(values),
                               scale=_scale(q.paraphrases) if kind == "score" else None)


def _norm(question_type: str) -> str:
    return question_type.strip().lower().replace("-", "_").replace(" ", "_")


def _join(text: str, suffix: str | None) -> str:
    if not suffix:
        return text
    if text[-1:].isspace() or suffix[:1].isspace():
        return text + suffix
    return f"{text}\n\n{suffix}"


def _scale(texts: tuple[str, ...]) -> tuple[float, float] | None:
    found = [{(float(a), float(b)) for a, b in _SCALE.findall(t)} for t in texts]
    pairs: set[tuple[float, float]] = set().union(*found)
    if all(found) and len(pairs) == 1:
        low, high = pairs.pop()
        return (low, high) if low < high else None
    return None
