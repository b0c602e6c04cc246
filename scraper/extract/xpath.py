"""Site expressions rewritten to select the same nodes in less time: pure string work on XPath,
checked against the original expressions over every fixture and real page in the tests."""

from __future__ import annotations

import re

# Site expressions rewritten to select the same nodes in less time (selection is a third of a page's):
# - has_class() (sites/base.py) tests a class token with two string functions for every element it
#   looks at; contains(@class, token) first is false for nearly all of them at no cost, and is implied
#   by the token test (the token holds no space);
# - libxml2 walks "//div[p]" as every node's div children, "/descendant::div[p]" in one walk over the
#   elements: the same nodes when p does not depend on the position (a number, position(), last());
# - and when p tests nothing but class tokens, over the class attributes alone, then their elements.
_CLASS_TOKEN = re.compile(r"contains\(concat\(' ', normalize-space\(@class\), ' '\), ' ([^'\s]+) '\)")
_TOKEN = re.compile(r"\(contains\(@class, '([^'\s]+)'\) and ")
_STEP = re.compile(r"//(\*|[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)(?=\[)")  # "//name" before a predicate
_BOOLEAN_OPERATOR = re.compile(r"[=<>]|(?<![\w.:@/-])(?:and|or)(?![\w.:-])")
_BOOLEAN_CALL = re.compile(r"(?:contains|starts-with|not|boolean|true|false|lang)\(\s*\)")
_ATTRIBUTE = re.compile(r"@[A-Za-z_][\w.-]*")


def faster(expression: str) -> str:
    """The expression rewritten to select the same nodes in less time."""
    return _descendant_steps(_CLASS_TOKEN.sub(lambda m: _token_test("@class", m[1]), expression))


def _token_test(node: str, token: str) -> str:
    return f"(contains({node}, '{token}') and contains(concat(' ', normalize-space({node}), ' '), ' {token} '))"


def _descendant_steps(expression: str) -> str:
    pieces, done, at = [], 0, 0
    while at < len(expression):
        if expression[at] in "'\"":  # a string literal: skipped whole
            at = expression.find(expression[at], at + 1) + 1 or len(expression)
        elif (step := _STEP.match(expression, at)) is None:
            at += 1
        else:
            rewritten, at = _descendant_step(expression, step)
            if rewritten:
                pieces += [expression[done : step.start()], rewritten]
                done = at
    return "".join([*pieces, expression[done:]])


def _descendant_step(expression: str, step: re.Match[str]) -> tuple[str, int]:
    """The step rewritten, and where the text it replaces ends; "" when it stays as it is."""
    predicates = _predicates(expression, step.end())
    if not all(_not_positional(p) for p in predicates):
        return "", step.end()
    if tokens := _class_tokens(predicates):
        tests = " or ".join(_token_test(".", t) for t in tokens)
        return f"/descendant::{step[1]}/@class[{tests}]/..", step.end() + len(predicates[0]) + 2
    return f"/descendant::{step[1]}", step.end()


def _predicates(expression: str, at: int) -> list[str]:
    """The predicates ``[...]`` that follow one another from ``at``; [""] when one is not closed."""
    found = []
    while at < len(expression) and expression[at] == "[":
        end = at + 1 + len(_masked(expression[at + 1 :], stop="]"))
        if end >= len(expression):
            return [""]
        found.append(expression[at + 1 : end])
        at = end + 1
    return found


def _class_tokens(predicates: list[str]) -> list[str]:
    """The tokens of a lone predicate made of class token tests joined by "or"; [] for any other."""
    tokens = _TOKEN.findall(predicates[0]) if len(predicates) == 1 else []
    return tokens if predicates[0] == " or ".join(_token_test("@class", t) for t in tokens) else []


def _masked(text: str, stop: str = "") -> str:
    """``text`` up to an unnested ``stop``, string literals and what brackets hold blanked out: what
    is left is the expression's top level."""
    out, depth, quote = [], 0, ""
    for char in text:
        if quote or char in "'\"":
            quote = "" if char == quote else quote or char
            char = " "
        elif char in "([":
            depth += 1
            char = char if depth == 1 else " "
        elif char in ")]" and depth:
            depth -= 1
            char = char if depth == 0 else " "
        elif char == stop and stop:
            break
        out.append(" " if depth and char not in "([" else char)
    return "".join(out)


def _not_positional(predicate: str) -> bool:
    """True for a comparison, an and/or, a call to a boolean function or an attribute test, each
    true or false whatever the position; False when unsure."""
    if "position(" in predicate or "last(" in predicate:
        return False
    top = _masked(predicate).strip()
    if top[:1] == "(" and top[1:-1].strip() == "" and top[-1:] == ")":  # (...) whole: what it holds
        return _not_positional(predicate.strip()[1:-1])
    return bool(_BOOLEAN_OPERATOR.search(top) or _BOOLEAN_CALL.fullmatch(top) or _ATTRIBUTE.fullmatch(top))
