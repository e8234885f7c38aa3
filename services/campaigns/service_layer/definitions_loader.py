"""Campaign definitions from a folder of YAML files, with errors a marketer can act on.

Each ``*.yaml`` / ``*.yml`` file holds one campaign (a mapping) or a list of them. Every problem
in every file is collected before failing, so one run of ``campaigns check`` shows them all, each
naming the file, the campaign and the field path (``trigger.lifecycle``, ``channels[1]``).
The same wording serves the HTTP API, through :func:`describe_errors`.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from services.campaigns.domain.definitions import Campaign, parse_campaign

SUFFIXES = (".yaml", ".yml")


class DefinitionError(ValueError):
    """Definitions that cannot be used; ``problems`` has one readable line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def field_path(loc: Sequence[int | str]) -> str:
    """Pydantic's location as a reader writes it: ``offer.content.code``, ``channels[1]``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _keys_at(loc: Sequence[int | str]) -> list[str]:
    """The keys the schema allows at ``loc`` (a path to a nested model), for "did you mean"."""
    model: type[BaseModel] = Campaign
    for part in loc:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        annotation = field.annotation if field is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _describe(error: Any) -> str:
    loc: tuple[int | str, ...] = tuple(error["loc"])
    kind: str = error["type"]
    message: str = error["msg"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        close = difflib.get_close_matches(key, _keys_at(loc[:-1]), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; allowed here: {', '.join(_keys_at(loc[:-1]))}"
        return f"{field_path(loc)}: unknown key{hint}"
    if kind == "missing":
        message = "is required"
    elif kind == "value_error":
        message = message.removeprefix("Value error, ")
    elif loc == ("id",) and kind in ("string_pattern_mismatch", "string_type"):
        message = (
            f"{error['input']!r} is not a campaign id: use 1 to 64 lower-case letters, digits, '_' or '-', "
            "starting with a letter or digit"
        )
    elif isinstance(error.get("input"), str | int | float | bool):
        message = f"{message} (got {error['input']!r})"
    return f"{field_path(loc)}: {message}" if loc else message


def describe_errors(error: ValidationError) -> list[str]:
    """One readable line per validation problem, e.g. ``trigger: ... names the lifecycle state``."""
    return [_describe(e) for e in error.errors()]


def _documents(path: Path) -> list[Any] | dict[Any, Any] | str:
    """The file's content: a list of definitions, one definition, or why the file cannot be read."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return "not UTF-8 text"
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        return f"not valid YAML{where}: {getattr(exc, 'problem', None) or exc}"
    if data is None:
        return "holds no campaign"
    if not isinstance(data, dict | list):
        return f"holds {type(data).__name__}, not a campaign or a list of campaigns"
    return data


def _which(document: Any, index: int, in_list: bool) -> str:
    """How to name a definition in a message: its id when it has a usable one, else its position."""
    given = document.get("id") if isinstance(document, dict) else None
    if isinstance(given, str) and given:
        return f"campaign {given!r}"
    return f"item {index + 1}" if in_list else "the campaign"


def load_file(path: Path) -> tuple[list[Campaign], list[str]]:
    """The valid campaigns of one file and the problems of the others."""
    content = _documents(path)
    if isinstance(content, str):
        return [], [f"{path.name}: {content}"]
    in_list = isinstance(content, list)
    documents: list[Any] = content if isinstance(content, list) else [content]
    campaigns: list[Campaign] = []
    problems: list[str] = []
    for index, document in enumerate(documents):
        where = f"{path.name}: {_which(document, index, in_list)}"
        if not isinstance(document, dict):
            problems.append(f"{where}: a campaign is a mapping of keys, not {type(document).__name__}")
            continue
        try:
            campaigns.append(parse_campaign(document))
        except ValidationError as exc:
            problems.extend(f"{where}: {line}" for line in describe_errors(exc))
    return campaigns, problems


def definition_files(folder: Path) -> list[Path]:
    """The YAML files of the folder (not its subfolders), by name, hidden files skipped."""
    return sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(".")
    )


def load_folder(path: Path) -> list[Campaign]:
    """Every campaign defined in the folder, by file name then position; raises DefinitionError.

    A folder without YAML files defines no campaigns. A campaign id defined twice is an error
    even when both definitions agree: which file is the truth must never be a guess.
    """
    if not path.is_dir():
        raise DefinitionError([f"{path}: not a folder of campaign definitions"])
    campaigns: list[Campaign] = []
    problems: list[str] = []
    defined_in: dict[str, str] = {}
    for file in definition_files(path):
        found, file_problems = load_file(file)
        problems += file_problems
        for campaign in found:
            if campaign.id in defined_in:
                problems.append(
                    f"{file.name}: campaign {campaign.id!r} is already defined in {defined_in[campaign.id]}"
                )
                continue
            defined_in[campaign.id] = file.name
            campaigns.append(campaign)
    if problems:
        raise DefinitionError(problems)
    return campaigns
