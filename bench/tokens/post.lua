-- wrk script: POST pre-generated form bodies (one per line of a file), each exactly once.
--   wrk -t T -c C -d D -s post.lua URL -- BODIES_FILE T
-- Thread k sends lines k, k+T, k+2T, ... of the file; a thread that runs out starts over
-- (those replays fail and are reported as "reused", so the run is flagged as too short on bodies).
-- Prints one line: RESULT ok=<2xx responses> bad=<other responses> reused=<bodies sent twice>
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  bodies = {}
  local i = 0
  for line in io.lines(file) do
    if i % nthreads == id and #line > 0 then bodies[#bodies + 1] = line end
    i = i + 1
  end
  nbodies, sent, ok, bad = #bodies, 0, 0, 0
  headers = { ["Content-Type"] = "application/x-www-form-urlencoded", ["Accept"] = "application/json" }
end

function request()
  sent = sent + 1
  return wrk.format("POST", nil, headers, bodies[(sent - 1) % nbodies + 1])
end

function response(status, hdrs, body)
  if status >= 200 and status < 300 then ok = ok + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
  local o, b, r = 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok"); b = b + t:get("bad")
    r = r + math.max(0, t:get("sent") - t:get("nbodies"))
  end
  io.write(string.format("RESULT ok=%d bad=%d reused=%d p50_ms=%.2f p99_ms=%.2f\n",
    o, b, r, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
