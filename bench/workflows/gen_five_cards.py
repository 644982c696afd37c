# Generates the benchmark flow (bench/workflows.sh): an API endpoint flow of five function cards
# (Compose, To Lowercase, Concatenate, Length, Add) and Return, history on. Prints the flopack.
import json
def field(fid, key, typ="string", data="", group=None, custom=False, proxy=None, index=0, wormhole=None, collection=False):
    md = {"index": index}
    if custom: md["custom"] = True
    if wormhole: md["wormholeMethodId"] = wormhole
    v = {"type": typ, "collection": collection, "data": data}
    if proxy is not None: v["proxy"] = proxy
    return {"id": fid, "group": group, "key": key, "value": v, "metadata": md}
def card(uuid, addr, name, inputs=(), outputs=(), pins=None, policy=None, mirrored=False, config=None, displayed=True):
    key = addr.split(":")[-1]
    model = {"inputs": {"extensible": True, "data": {f["id"]: f for f in inputs}},
             "outputs": {"extensible": True, "data": {f["id"]: f for f in outputs}},
             "policy": {"error": policy or {"type": "finish"}},
             "mirrored": mirrored, "displayed": displayed, "config": config}
    return {"uuid": uuid, "address": addr, "node": {"key": key, "data": {"name": name}, "model": model},
            "pins": pins or {}, "branches": {}, "joins": {}}
def pin(out, target, inp, convert=None):
    t = None
    if convert: t = {out: {"convert": convert, "dest": out}}
    return {out: {target: [{"input": inp, "transform": t}]}}
def merge(*ps):
    r = {}
    for p in ps:
        for o, tg in p.items():
            for t, l in tg.items():
                r.setdefault(o, {}).setdefault(t, []).extend(l)
    return r
def flow(uid, name, cards, chain, log=True, extra=None):
    d = {"id": None, "uuid": uid, "methods": cards,
         "orderings": {f"o{i}": [a, b] for i, (a, b) in enumerate(zip(chain, chain[1:]))},
         "log": log, "inheritLog": False, "group": None, "cron": {}, "scheduled": False, "security_level": None}
    if extra: d.update(extra)
    return d
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
