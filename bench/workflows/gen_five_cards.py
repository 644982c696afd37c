# Generates the benchmark flow (bench/workflows.sh): an API endpoint flow of five function cards
# (Compose, To Lowercase, Concatenate, Length, Add) and Return, history on. Prints the flopack.
import json, os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../crates/steward-flows/tests/fixtures"))
from flopack_gen import card, field, flow, merge, pin  # noqa: E402
K = "root:kernel:"
flos = {}
uid = "be7c0000-0000-4000-8000-000000000001"
cards = [
    card("bA", K+"http:0.0.1:accept", "API Endpoint", [field("bAi", "name", "string", "", group="body", custom=True)],
         [field("bAo", "name", "string", None, group="body", custom=True)], mirrored=True,
         pins=merge(pin("bAo", "bC", "bCt"), pin("bAo", "bK", "bKb"))),
    card("bC", K+"string:0.0.1:compose", "Compose", [field("bCx", "_text_", "string", "Hello, {{{t1}}}!"), field("bCt", "t1", "string", "", index=1)],
         [field("bCo", "output", "string", None)], pins=pin("bCo", "bL", "bLi")),
    card("bL", K+"string:0.0.1:toLowerCase", "To Lowercase", [field("bLi", "string", "string", "")],
         [field("bLo", "output", "string", None)], pins=pin("bLo", "bK", "bKa")),
    card("bK", K+"string:0.0.1:concat", "Concatenate", [field("bKa", "string1", "string", ""), field("bKs", "string2", "string", " / ", index=1), field("bKb", "string3", "string", "", index=2)],
         [field("bKo", "output", "string", None)], pins=merge(pin("bKo", "bN", "bNi"), pin("bKo", "bR", "bRg"))),
    card("bN", K+"string:0.0.1:length", "Length", [field("bNi", "string", "string", "")],
         [field("bNo", "length", "number", None)], pins=pin("bNo", "bD", "bDa")),
    card("bD", K+"math:0.0.1:add", "Add", [field("bDa", "a", "number", 0), field("bDb", "b", "number", 1000, index=1)],
         [field("bDo", "output", "number", None)], pins=pin("bDo", "bR", "bRn")),
    card("bR", K+"control:0.0.1:return", "Return", [field("bRg", "greeting", "string", "", custom=True), field("bRn", "score", "number", 0, custom=True, index=1)],
         [field("bRgo", "greeting", "string", None, custom=True), field("bRno", "score", "number", None, custom=True, index=1)], mirrored=True),
]
d = flow(uid, "Bench - five cards", cards, ["bA", "bC", "bL", "bK", "bN", "bD", "bR"], log=True, extra={"security_level": "medium"})
flos[uid] = {"id": uid, "name": "Bench - five cards", "description": "bench/workflows.sh", "data": d}
print(json.dumps({"type": "flopack", "version": "1.5.0", "created": "2026-12-07T00:00:00.000Z",
                  "flags": {"auto-transform": True, "looseBooleans": True, "looseStrings": True, "looseNulls": True},
                  "data": {"flos": flos, "groups": {}, "tables": {}, "configs": {}}}, indent=1))
