"""docs/protocol.md against the code: message types, fields, error and close codes.

An independent agent is written from that page alone, so its tables must say what the
code does; these tests fail when one side changes without the other.
"""

from __future__ import annotations

import ast
import importlib
import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from endpoint_agent import connection as agent_connection
from server.devices import store as device_store
from shared import protocol as p
from tests.support.markdown import Table, code_spans, doc_tables

ROOT = Path(__file__).resolve().parents[2]
DIRECTIONS = {"server → agent", "agent → server", "both"}


def protocol_tables() -> list[Table]:
    return doc_tables("protocol.md")


def table(header0: str, *, section: str | None = None, heading: str | None = None) -> Table:
    """Return the one table of protocol.md with this first header (and place)."""
    found = [t for t in protocol_tables() if t.header[0] == header0
             and (section is None or t.section.startswith(section))
             and (heading is None or t.heading.startswith(heading))]
    assert len(found) == 1, f"{len(found)} tables start with {header0!r} in {section!r}"
    return found[0]


def message_types() -> dict[str, tuple[str, type[p.Message]]]:
    """Return {type: (direction, struct)} of every message of the agent socket."""
    server = {t.__struct_config__.tag: t for t in typing.get_args(p.ServerMessage)}
    agent = {t.__struct_config__.tag: t for t in typing.get_args(p.AgentMessage)}
    out: dict[str, tuple[str, type[p.Message]]] = {}
    for tag, cls in {**server, **agent}.items():
        direction = ("both" if tag in server and tag in agent
                     else "server → agent" if tag in server else "agent → server")
        out[str(tag)] = (direction, cls)
    return out


def fields_of(cls: type[msgspec.Struct]) -> tuple[set[str], set[str]]:
    """Return the (required, optional) field names of a struct."""
    info = msgspec.structs.fields(cls)
    return {f.name for f in info if f.required}, {f.name for f in info if not f.required}


def listed(cell: str) -> set[str]:
    return set(code_spans(cell))


def test_message_reference_lists_every_type_with_its_fields() -> None:
    """Section 6 names every message type, its direction and its required/optional fields."""
    documented = {}
    for row in table("type", section="6.").records():
        (name,) = code_spans(row["type"])
        assert row["direction"] in DIRECTIONS, row
        documented[name] = (row["direction"], listed(row["required fields"]),
                            listed(row["optional fields"]))
    expected = {tag: (direction, *fields_of(cls))
                for tag, (direction, cls) in message_types().items()}
    assert documented == expected


def _structs_in(tp: Any) -> Iterator[tuple[str, type[msgspec.Struct]]]:
    """Yield (path suffix, struct) for the one struct type a field holds, if any."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        yield from _structs_in(typing.get_args(tp)[0])
    elif origin in (typing.Union, types.UnionType):
        inner = [s for arg in typing.get_args(tp) for s in _structs_in(arg)]
        if len(inner) == 1:  # a tagged union (input events) is documented on its own
            yield inner[0]
    elif origin is list:
        for suffix, struct in _structs_in(typing.get_args(tp)[0]):
            yield "[]" + suffix, struct
    elif isinstance(tp, type) and issubclass(tp, msgspec.Struct) \
            and not issubclass(tp, p.Message):
        yield "", tp


def nested_objects() -> dict[str, type[msgspec.Struct]]:
    """Return {"message.field[]...": struct} for every object inside a message."""
    found: dict[str, type[msgspec.Struct]] = {}

    def walk(prefix: str, cls: type[msgspec.Struct]) -> None:
        for info in msgspec.structs.fields(cls):
            for suffix, struct in _structs_in(info.type):
                path = f"{prefix}.{info.name}{suffix}"
                found[path] = struct
                walk(path, struct)

    for tag, (_direction, cls) in message_types().items():
        walk(tag, cls)
    return found


def test_message_reference_lists_every_object_inside_messages() -> None:
    """The objects table gives the required/optional fields of every nested object."""
    documented = {}
    for row in table("object", section="6.").records():
        (path,) = code_spans(row["object"])
        documented[path] = (listed(row["required fields"]), listed(row["optional fields"]))
    assert documented == {path: fields_of(struct) for path, struct in nested_objects().items()}


def test_metrics_is_documented_as_all_or_nothing() -> None:
    """A heartbeat sample lacking a percentage is refused, as the page says."""
    required, _ = fields_of(p.Metrics)
    assert required == {"cpu_percent", "memory_percent", "disk_percent"}
    text = (ROOT / "docs" / "protocol.md").read_text()
    assert "`metrics` is all or nothing" in text
    try:
        p.decode_agent_message('{"type":"heartbeat","seq":1,"metrics":{"cpu_percent":1}}')
    except p.ProtocolError as exc:
        assert exc.code == p.INVALID_MESSAGE
    else:
        raise AssertionError("a partial sample was accepted")


def _evaluate(expr: ast.expr, namespace: dict[str, Any]) -> Any:
    """Return the value of a name, dotted name or constant, or None for anything else."""
    if not all(isinstance(n, (ast.Name, ast.Attribute, ast.Constant, ast.Load))
               for n in ast.walk(expr)):
        return None  # a call or an operation: never run it
    try:
        return eval(ast.unparse(expr), namespace)  # noqa: S307 (our own source)
    except (NameError, AttributeError):
        return None


def _sent_codes() -> set[str]:
    """Return every error code server/ and shared/ put in a protocol error or message.

    Found in the source: the first argument of ``ProtocolError(...)`` and the ``code`` of
    ``Error(...)``, evaluated in their module (a code taken from another error, such as
    ``exc.code``, is skipped: it is one of these).
    """
    codes: set[str] = set()
    for path in sorted([*(ROOT / "server").rglob("*.py"), *(ROOT / "shared").rglob("*.py")]):
        source = path.read_text()
        if "ProtocolError(" not in source and "Error(code=" not in source:
            continue
        module = importlib.import_module(
            ".".join(path.relative_to(ROOT).with_suffix("").parts))
        namespace = vars(module)
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.Call):
                continue
            func = _evaluate(node.func, namespace)
            if func is p.ProtocolError and node.args:
                expr: ast.expr | None = node.args[0]
            elif func is p.Error:
                expr = next((k.value for k in node.keywords if k.arg == "code"), None)
            else:
                continue
            value = _evaluate(expr, namespace) if expr is not None else None
            if isinstance(value, str):
                codes.add(value)
    return codes


def documented_codes() -> set[str]:
    """Return the codes of every "code" table of sections 2 and 3 (the agent socket)."""
    return {code for t in protocol_tables()
            if t.header[0] == "code" and t.section.startswith(("2.", "3."))
            for cell in t.column("code") for code in code_spans(cell)}


def test_error_code_tables_list_exactly_the_codes_the_server_sends() -> None:
    """Every code the server can send an agent is documented, and no other."""
    assert documented_codes() == _sent_codes()


def close_codes() -> set[int]:
    return {v for k, v in vars(p).items() if k.startswith("CLOSE_") and isinstance(v, int)}


def test_close_code_table_lists_every_close_code() -> None:
    """The close-code table holds each CLOSE_* constant; the refusal table uses only those."""
    documented = {int(c) for c in table("close code", section="2.").column("close code")}
    assert documented == close_codes()
    refusals = table("code", heading="Handshake")
    assert {int(c) for c in refusals.column("close code")} <= documented


def test_the_server_closes_agent_sockets_only_with_named_codes() -> None:
    """No bare number closes an agent socket: each code is a documented constant."""
    literal = re.compile(r"close\((?:code=)?\d{4}|_send_and_close\([^)]*,\s*\d{4}")
    for path in sorted((ROOT / "server" / "agents").glob("*.py")):
        found = literal.findall(path.read_text())
        assert not found, f"{path.name}: {found}"


def test_agent_gives_up_exactly_where_the_doc_says_stop() -> None:
    """The reference agent stops for the codes the doc says stop for, and only those."""
    refusals = table("code", heading="Handshake").records()
    stop_codes = {c for r in refusals if r["what the agent should do"].startswith("**stop**")
                  for c in code_spans(r["code"])}
    assert stop_codes == agent_connection.FATAL_CODES
    closes = table("close code", section="2.").records()
    stop_closes = {int(r["close code"]) for r in closes
                   if r["what the agent should do"].startswith("**stop**")}
    assert stop_closes == set(agent_connection.FATAL_CLOSE)
    slow = {int(r["close code"]) for r in closes
            if r["what the agent should do"].startswith("**retry slowly**")}
    assert p.CLOSE_BAD_HELLO in slow and p.CLOSE_AUTH_FAILED not in slow


def test_inventory_keys_fill_the_documented_device_fields() -> None:
    """Each key of the inventory table fills its device field; other key names fill none."""
    rows = table("section", heading="After `welcome`").records()
    assert rows
    for row in rows:
        (section,) = code_spans(row["section"])
        keys = code_spans(row["key"])
        field = code_spans(row["device field"])[0]
        is_list = "(list of objects)" in row["section"]
        for key in keys[:2] if "else" in row["key"] else keys[:1]:
            data: Any = [{key: "X-1"}] if is_list else {key: "X-1"}
            if field == "software":
                assert device_store.software_rows(data) == {("X-1", "")}, row
                continue
            assert device_store.summary_fields(section, data).get(field) == "X-1", row
    # Names that look right but are not GLPI's fill nothing, without an error.
    assert device_store.summary_fields("hardware", {"hostname": "pc"}) == {}
    assert device_store.summary_fields("bios", {"serial": "S1"}) == {"serial": ""}
    assert device_store.summary_fields("os", {"name": "Linux"}) == {}


def test_hello_field_table_says_which_fields_are_required() -> None:
    """The handshake's hello table lists each hello field with whether it is required."""
    rows = table("`hello` field", heading="Handshake").records()
    documented = {code_spans(r["`hello` field"])[0]: r["required"] == "yes" for r in rows}
    required, optional = fields_of(p.Hello)
    assert documented == {f: True for f in required} | {f: False for f in optional}
