"""The deployment template, read as CloudFormation would, and its IAM policies evaluated.

Three small pieces for tests/test_template.py (and nothing heavier than PyYAML):

- `load_template`: YAML with CloudFormation's short tags (``!Ref``, ``!Sub``, ``!GetAtt``,
  ``!If``...) read into their long form (``{"Ref": ...}``, ``{"Fn::Sub": ...}``);
- `Resolver`: intrinsic functions resolved against parameters (their defaults unless
  given), pseudo parameters, and the ids and attributes a test gives the resources;
- `Policy.decide`: IAM's evaluation for one identity policy: an explicit Deny wins, else
  an Allow must match the action, every resource and every condition, else denied.
  Actions match case-insensitively with ``*`` and ``?``; resources case-sensitively.
  A condition on a key the request does not carry fails (as in IAM, ``...IfExists`` and
  ``Null`` aside), so a statement that needs a key the test does not supply cannot pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).parents[1] / "src" / "rootkeys" / "deploy" / "rootkeys.yaml"
NO_VALUE = object()
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "rootkeys",
}
"""Pseudo parameters a `Resolver` is not given."""


class _CfnLoader(yaml.SafeLoader):
    """A safe loader that knows CloudFormation's short tags."""


def _short_tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _short_tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as a dict, short tags in their long form."""
    with path.open(encoding="utf-8") as stream:
        loaded: dict[str, Any] = yaml.load(stream, Loader=_CfnLoader)  # noqa: S506 - safe loader
    return loaded


@dataclass
class Resolver:
    """Resolves intrinsic functions in a template.

    Attributes:
        template: the loaded template.
        parameters: parameter values; the others take their defaults.
        pseudo: ``AWS::Partition``, ``AWS::Region``, ``AWS::AccountId``... (else `PSEUDO`).
        refs: what ``Ref`` gives for a resource (unknown ones: ``<Name>``).
        attributes: what ``GetAtt`` gives, by ``"Name.Attribute"`` (unknown: ``<Name.Attr>``).
    """

    template: Mapping[str, Any]
    parameters: Mapping[str, str] = field(default_factory=dict)
    pseudo: Mapping[str, str] = field(default_factory=dict)
    refs: Mapping[str, str] = field(default_factory=dict)
    attributes: Mapping[str, str] = field(default_factory=dict)

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name.startswith("AWS::"):
            return {**PSEUDO, **self.pseudo}[name]
        declared = self.template.get("Parameters", {})
        if name in declared:
            return str(self.parameters.get(name, declared[name].get("Default", "")))
        if name in self.template["Resources"]:
            return self.refs.get(name, f"<{name}>")
        raise KeyError(f"Ref to {name!r}: no such parameter or resource")

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def resolve(self, node: Any) -> Any:
        """``node`` with every intrinsic function resolved."""
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, value),) = node.items()
            function = _FUNCTIONS.get(key)
            if function is not None:
                return function(self, value)
        resolved = {k: self.resolve(v) for k, v in node.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _sub(self, value: Any) -> str:
        text, names = (value, {}) if isinstance(value, str) else (value[0], value[1])

        def one(found: re.Match[str]) -> str:
            name = found.group(1)
            if name in names:
                return str(self.resolve(names[name]))
            if "." in name and not name.startswith("AWS::"):
                resource, attribute = name.split(".", 1)
                return self._getatt([resource, attribute])
            return str(self.ref(name))

        return re.sub(r"\$\{([^}!]+)\}", one, text)

    def _getatt(self, value: Sequence[str]) -> str:
        resource, attribute = value
        if resource not in self.template["Resources"]:
            raise KeyError(f"GetAtt of {resource!r}: no such resource")
        return self.attributes.get(f"{resource}.{attribute}", f"<{resource}.{attribute}>")

    def _if(self, value: Sequence[Any]) -> Any:
        name, yes, no = value
        return self.resolve(yes if self.condition(name) else no)


_FUNCTIONS: dict[str, Any] = {
    "Ref": lambda r, v: r.ref(v),
    "Condition": lambda r, v: r.condition(v),
    "Fn::Sub": lambda r, v: r._sub(v),
    "Fn::GetAtt": lambda r, v: r._getatt(v),
    "Fn::If": lambda r, v: r._if(v),
    "Fn::Equals": lambda r, v: r.resolve(v[0]) == r.resolve(v[1]),
    "Fn::Not": lambda r, v: not r.resolve(v[0]),
    "Fn::And": lambda r, v: all(r.resolve(x) for x in v),
    "Fn::Or": lambda r, v: any(r.resolve(x) for x in v),
    "Fn::Join": lambda r, v: str(v[0]).join(str(r.resolve(x)) for x in r.resolve(v[1])),
}


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def wildcard(pattern: str, value: str, *, case: bool = True) -> bool:
    """IAM's matching: ``*`` is any run of characters, ``?`` any one character."""
    regex = "".join(
        ".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in str(pattern)
    )
    return re.fullmatch(regex, value, 0 if case else re.IGNORECASE) is not None


@dataclass(frozen=True)
class Request:
    """One authorization request: an action, its resources, its condition keys."""

    action: str
    resources: tuple[str, ...] = ("*",)
    context: Mapping[str, str] = field(default_factory=dict)


_OPERATORS = {
    "StringEquals": lambda p, v: p == v,
    "StringNotEquals": lambda p, v: p != v,
    "StringLike": lambda p, v: wildcard(p, v),
    "StringNotLike": lambda p, v: not wildcard(p, v),
    # IAM's ArnEquals and ArnLike are the same operator: both take wildcards
    "ArnEquals": lambda p, v: wildcard(p, v),
    "ArnLike": lambda p, v: wildcard(p, v),
    "ArnNotEquals": lambda p, v: not wildcard(p, v),
    "ArnNotLike": lambda p, v: not wildcard(p, v),
}
_NEGATED = {"StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike"}


def _condition_holds(
    condition: Mapping[str, Mapping[str, Any]], context: Mapping[str, str]
) -> bool:
    for operator, keys in condition.items():
        for key, wanted in keys.items():
            present = key in context
            if operator == "Null":
                if (str(wanted).lower() == "true") == present:  # "true": must be absent
                    return False
                continue
            base = operator.removesuffix("IfExists")
            if base not in _OPERATORS:
                raise ValueError(f"condition operator {operator} is not evaluated here")
            if not present:
                if operator.endswith("IfExists"):
                    continue
                return False
            test = _OPERATORS[base]
            patterns = [str(p) for p in _listed(wanted)]
            if base in _NEGATED:
                if not all(test(p, context[key]) for p in patterns):
                    return False
            elif not any(test(p, context[key]) for p in patterns):
                return False
    return True


@dataclass(frozen=True)
class Statement:
    """One resolved policy statement."""

    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    condition: Mapping[str, Mapping[str, Any]]
    sid: str = ""
    not_actions: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> Statement:
        return cls(
            effect=raw["Effect"],
            actions=tuple(_listed(raw.get("Action", []))),
            resources=tuple(_listed(raw.get("Resource", []))),
            condition=raw.get("Condition", {}),
            sid=raw.get("Sid", ""),
            not_actions=tuple(_listed(raw.get("NotAction", []))),
            not_resources=tuple(_listed(raw.get("NotResource", []))),
        )

    def matches_action(self, action: str) -> bool:
        if self.not_actions:
            return not any(wildcard(a, action, case=False) for a in self.not_actions)
        return any(wildcard(a, action, case=False) for a in self.actions)

    def matches_resource(self, resource: str) -> bool:
        if self.not_resources:
            return not any(wildcard(r, resource) for r in self.not_resources)
        return any(wildcard(r, resource) for r in self.resources)

    def applies(self, request: Request, resource: str) -> bool:
        return (
            self.matches_action(request.action)
            and self.matches_resource(resource)
            and _condition_holds(self.condition, request.context)
        )


@dataclass(frozen=True)
class Policy:
    """An identity policy's statements, resolved."""

    statements: tuple[Statement, ...]

    @classmethod
    def of(cls, documents: Iterable[Mapping[str, Any]]) -> Policy:
        return cls(tuple(Statement.of(s) for doc in documents for s in _listed(doc["Statement"])))

    def decide(self, request: Request) -> str:
        """``allowed``, ``denied`` (an explicit Deny) or ``not allowed`` (no Allow)."""
        for resource in request.resources:
            if any(s.effect == "Deny" and s.applies(request, resource) for s in self.statements):
                return "denied"
        for resource in request.resources:
            if not any(
                s.effect == "Allow" and s.applies(request, resource) for s in self.statements
            ):
                return "not allowed"
        return "allowed"

    def allowed_actions(self) -> set[str]:
        """Every action an Allow statement names (as written)."""
        return {a for s in self.statements if s.effect == "Allow" for a in s.actions}


def role_policy(resolver: Resolver, role: str) -> Policy:
    """The inline policies of the template's role ``role``, resolved."""
    properties = resolver.template["Resources"][role]["Properties"]
    return Policy.of(resolver.resolve(p["PolicyDocument"]) for p in properties["Policies"])
