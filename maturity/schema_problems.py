"""A JSON Schema's errors as the problems a person who wrote the file can act on: where (a path like
pillars[2].domains[0].weight) and what is wrong in plain English, never jsonschema's own message.

The schemas (maturity/schemas/) follow two conventions the messages rely on:
- a value's "description" completes "must be ...": it is the message when the value has the wrong type, does not
  match its pattern or constant, or has too few items;
- `"not": {}` under "properties" refuses a key, and its description says why.
"""

import copy
import json
from decimal import Decimal
from functools import reduce
from pathlib import Path

from jsonschema import Draft202012Validator, ValidationError


class FileProblems(Exception):
    """A data file that cannot be loaded, with every problem found in it."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


TYPE_NAMES = {
    "array": "a list",
    "boolean": "true or false",
    "integer": "a whole number",
    "null": "null",
    "number": "a number",
    "object": "a mapping",
    "string": "text",
}
# A failure of one of these means the value is not the kind of thing expected: the message is the description.
DESCRIBED = {"type", "pattern", "const", "minItems"}
# These concern an object's keys or a list as a whole: the values in it are valid and stay for the rules in code.
VALUES_STAY = {"required", "additionalProperties", "uniqueItems"}


def load_validator(path: Path) -> Draft202012Validator:
    # Decimals, not floats, so that "multipleOf": 0.01 is exact: the float 1.1 is not a multiple of the float 0.01.
    # The documents checked must hold Decimals too (Decimal % float is an error).
    schema = json.loads(Path(path).read_text(encoding="utf-8"), parse_float=Decimal)
    return Draft202012Validator(schema)


def schema_problems(validator: Draft202012Validator, document) -> tuple[list[tuple[str, str]], object]:
    """Every problem the schema finds, as (where, what), and a copy of the document without the values that have
    one, so that the rules in code can trust whatever is left."""
    problems, invalid = [], []
    for error in validator.iter_errors(document):
        # A "required" error comes once per missing key, and each names them all.
        problems += [problem for problem in explain(error) if problem not in problems]
        if error.validator not in VALUES_STAY:
            invalid.append(list(error.absolute_path))
    return problems, without(document, invalid)


def explain(error: ValidationError) -> list[tuple[str, str]]:
    path, keyword, value, schema = list(error.absolute_path), error.validator, error.instance, error.schema
    if keyword == "required":
        return [(location(path), f"missing key '{key}'") for key in error.validator_value if key not in value]
    if keyword == "additionalProperties":
        known = list(schema.get("properties", {}))
        expected = ", ".join(known)
        return [(location(path), f"unknown key '{key}': expected {expected}") for key in value if key not in known]
    if keyword == "not":
        return [(location(path[:-1]), f"unknown key '{path[-1]}': {schema['description']}")]
    if keyword == "uniqueItems":
        repeat = next(i for i, item in enumerate(value) if item in value[:i])
        return [(location([*path, repeat]), f"{shown(value[repeat])} is listed twice")]
    return [(location(path), message(keyword, error.validator_value, value, schema))]


def message(keyword: str, expected, value, schema: dict) -> str:
    found = describe(value)
    if keyword in DESCRIBED:
        return f"must be {schema.get('description') or type_name(schema)}, found {found}"
    if keyword == "enum":
        return f"{shown(value)} is not one of {', '.join(str(option) for option in expected)}"
    if keyword == "maxLength":
        return f"is {len(value)} characters long: at most {expected}"
    if keyword == "minimum":
        return f"must be at least {expected}, found {found}"
    if keyword == "maximum":
        return f"must be at most {expected}, found {found}"
    if keyword == "exclusiveMinimum":
        return f"must be {'a positive number' if expected == 0 else f'more than {expected}'}, found {found}"
    if keyword == "multipleOf":
        if isinstance(expected, Decimal) and expected < 1 and expected.as_tuple().digits == (1,):
            return f"must have at most {-expected.as_tuple().exponent} decimals, found {found}"
        return f"must be a multiple of {expected}, found {found}"
    # Only a keyword the schemas do not use (a test keeps it so) gets here.
    return f"does not meet the schema's {keyword} {expected}, found {found}"


def type_name(schema: dict) -> str:
    types = schema.get("type", [])
    return " or ".join(TYPE_NAMES[name] for name in ([types] if isinstance(types, str) else types)) or "valid"


def location(path: list) -> str:
    """The path in the style of the file's author: pillars[2].domains[0].levels.3."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else f".{step}" if text else str(step)
    return text


def describe(value) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float | Decimal):
        return f"the number {value}"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def shown(value) -> str:
    return repr(value) if isinstance(value, str) else describe(value)


def without(document, paths: list[list]):
    """A copy of the document without the value at each path: a key is removed, a list item becomes None so that
    the others keep their index."""
    if [] in paths:
        return None
    kept = copy.deepcopy(document)
    for *parents, last in paths:
        parent = reduce(child, parents, kept)
        if isinstance(parent, dict):
            parent.pop(last, None)
        elif isinstance(parent, list) and last < len(parent):
            parent[last] = None
    return kept


def child(node, step):
    if isinstance(node, dict):
        return node.get(step)
    if isinstance(node, list) and step < len(node):
        return node[step]
    return None
