-- wrk script: POSTs pre-made request bodies, one per line of a file, each body once.
--   wrk -t T -c C -d D -s post-bodies.lua URL -- PATH BODIES_FILE T [SKIP]
-- The first SKIP lines (default 0) are not used. Of the rest, thread k of T sends the k-th, (k+T)-th, …;
-- a thread that runs out starts over, and its repeats are answered 409 and counted as errors. `done` prints one JSON line for the bench to read.

local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

function init(args)
  path = args[1]
  local threads = tonumber(args[3])
  local skip = tonumber(args[4] or "0")
  bodies = {}
  local line_number = 0
  for line in io.lines(args[2]) do
    if line_number >= skip and (line_number - skip) % threads == id then
      bodies[#bodies + 1] = line
    end
    line_number = line_number + 1
  end
  sent = 0
  headers = { ["Content-Type"] = "application/json" }
end

function request()
  sent = sent + 1
  return wrk.format("POST", path, headers, bodies[(sent - 1) % #bodies + 1])
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"requests":%d,"durationMicros":%d,"statusErrors":%d,"socketErrors":%d,"p50Micros":%d,"p99Micros":%d}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
