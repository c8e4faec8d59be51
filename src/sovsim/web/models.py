"""The web app's request and response shapes (the published OpenAPI schema), with the
loader's limits (:mod:`sovsim.scenario.limits`), and validation errors in the words of a
scenario file's errors."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from sovsim.regions import REGIONS
from sovsim.scenario import catalogue, limits, shipped_scenarios

MAX_CHANGES = limits.MAX_CHANGES

# --- request and response shapes (they are the published OpenAPI schema) ---

MONTH = r"^(192[1-9]|193[0-9]|1940)-(0[1-9]|1[0-2])$"
Month = Annotated[str, Field(pattern=MONTH, examples=["1932-07"],
                             description="YYYY-MM, 1921-01..1940-12")]


def _text_field(key: str, default: Any) -> Any:
    """A text field with the loader's limits: its length, and (in the published schema) the
    characters it may hold; the validator below gives the loader's message."""
    return Field(default, min_length=1 if key == "name" else 0, max_length=limits.MAX_TEXT[key],
                 json_schema_extra={"pattern": limits.PATTERN[key]})


def _checked_text(value: str | None, info) -> str | None:
    """The loader's rule for a text field (limits.text_problem), in the request model."""
    if value is not None:
        problem = limits.text_problem(info.field_name, value)
        if problem:
            raise ValueError(problem)
    return value


def _change_model(inst) -> type[BaseModel]:
    """The shape of a change to one instrument: its value typed and bounded as the catalogue
    says, so the published schema tells a client what each instrument accepts."""
    if inst.kind == "float":
        value: Any = Annotated[float, Field(strict=True, ge=inst.min, le=inst.max, allow_inf_nan=False,
                                            description=f"{inst.unit}: {inst.doc}")]
    elif inst.kind == "bool":
        value = Annotated[bool, Field(strict=True, description=inst.doc)]
    else:
        value = Annotated[Literal[tuple(inst.choices)], Field(description=inst.doc)]
    region: Any = Literal[tuple(REGIONS)] | None if inst.regional else None
    return create_model(
        f"Change_{inst.name}", __config__=ConfigDict(extra="forbid", strict=True),
        __doc__=f"From `date` on, {inst.name} takes `value`" + (
            " (in `region`, or everywhere)." if inst.regional else "."),
        date=(Month, ...), instrument=(Literal[inst.name], ...), value=(value, ...),
        region=(region, None),
        source=(str | None, _text_field("source", None)),
        note=(str | None, _text_field("note", None)),
        __validators__={"text": field_validator("source", "note")(_checked_text)})


# (Union of a tuple of models made at run time: the `X | Y` form cannot be written here)
Change = Annotated[Union[tuple(_change_model(i) for i in catalogue().values())],  # noqa: UP007
                   Field(discriminator="instrument")]
ShippedName = Literal[tuple(sorted(shipped_scenarios()))]


class ScenarioIn(BaseModel):
    """A scenario as in a scenario file; ``extends`` may only name a shipped scenario."""

    # `diverge` needs `extends` (as in a file); said in the schema, so clients can see it.
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={
        "if": {"properties": {"diverge": {"type": "string"}}, "required": ["diverge"]},
        "then": {"required": ["extends"], "properties": {"extends": {"type": "string"}}}})
    name: str = _text_field("name", "my-scenario")
    title: str | None = _text_field("title", None)
    description: str | None = _text_field("description", None)
    # As in a file: no `extends` is a scenario from scratch (the instruments' defaults), so an
    # upload, its download and its upload again mean the same scenario.
    extends: ShippedName | None = Field(None, description="a shipped scenario to start from; "
                                        "absent or null: from scratch, as in a file")
    diverge: Month | None = Field(None, description="needs `extends`: the parent's changes "
                                  "before this month are kept, later ones dropped")
    changes: list[Change] = Field(default_factory=list, max_length=MAX_CHANGES)

    check_text = field_validator("name", "title", "description")(_checked_text)


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    scenario: ScenarioIn
    resolution: Literal["cells"] = Field("cells", description="the web app runs at cell "
                                         "resolution; household runs are for the command line")
    households: int = Field(0, ge=0, le=0, description="0: household runs take minutes and "
                            "gigabytes and are refused here (`sovsim run --households N`)")


class TomlIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    # (its size limit is the loader's, limits.MAX_FILE_BYTES: refused with the CLI's message)
    toml: str = Field(..., description=f"a scenario file's text, at most "
                      f"{limits.MAX_FILE_BYTES:,} bytes of UTF-8")


class Problem(BaseModel):
    error: str
    detail: str


ERRORS = {code: {"model": Problem} for code in (400, 404, 413, 422, 429, 503)}
# For routes whose success is not JSON: the refusals still are.
ERRORS_JSON = {code: {"content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/Problem"}}}} for code in ERRORS}


def _say(e: dict, loc: tuple[str, ...]) -> str:
    """One validation error in the words of a scenario file's errors."""
    where = ".".join(_plain(loc)) or "body"
    inst = next((part for part in loc if part in catalogue()), None)
    kind, got = e.get("type", ""), e.get("input")
    if kind == "missing":
        return f"{where}: missing"
    if loc[-1:] == ("date",) or loc[-1:] == ("diverge",):
        return f"{where}: bad date {got!r} (allowed: 'YYYY-MM' from 1921-01 to 1940-12)"
    if loc[-1:] == ("region",) and inst is not None:
        if not catalogue()[inst].regional:
            return f"{where}: {inst} is not regional (no region key for this instrument)"
        return f"{where}: unknown region {got!r} (allowed: {', '.join(REGIONS)})"
    if loc[-1:] == ("value",) and inst is not None:
        return (f"{where} ({inst}): {e.get('msg', 'invalid')}, got {got!r} "
                f"(allowed: {catalogue()[inst].allowed()})")
    if kind == "union_tag_not_found":
        return f"{where}.instrument: missing"
    if kind == "union_tag_invalid":
        name = got.get("instrument") if isinstance(got, dict) else got
        return f"{where}.instrument: unknown instrument {name!r} (see GET /api/instruments)"
    return f"{where}: {e.get('msg', 'invalid')}"


def _plain(loc: tuple[str, ...]) -> list[str]:
    """('scenario', 'changes', '0', 'grain_export_target_t', 'value') -> scenario.changes[0].value"""
    out: list[str] = []
    for part in loc:
        if part.isdigit() and out:
            out[-1] += f"[{part}]"
        elif part.startswith("Change_") or (out and out[-1].startswith("changes[") and part in catalogue()):
            continue
        else:
            out.append(part)
    return out
