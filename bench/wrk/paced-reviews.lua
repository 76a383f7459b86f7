-- wrk script: AdmissionReviews at a fixed rate (open-loop pacing over wrk's connections), each review
-- timed from the moment it was due, so a slow answer also counts against the reviews queued behind it
-- (no coordinated omission).
--   wrk -t 1 -c C -d D -s paced-reviews.lua URL -- PATH TEMPLATE_FILE RATE [WARMUP_SECONDS]
-- TEMPLATE_FILE's first line is a review whose uid is "paced-@SEQ@"; each request gets its own number
-- there, and the answer's uid (the webhook echoes it) says which request it answers. Send times are
-- slots RATE⁻¹ apart: a connection that is free claims the next slot and waits for it (wrk's `delay`,
-- whole milliseconds, rounded down). A review's latency runs from its slot when its connection only
-- became free after that slot (the server is behind), from its actual send otherwise (the client's
-- timer granularity is not the server's). Slots are handed to sends in the order they were claimed;
-- two timers due in the same millisecond may fire in either order, so a send can carry a neighbour's
-- slot (under a millisecond apart at the rates used). Reviews due in the first WARMUP_SECONDS
-- (default 1: the fresh connections' first requests) are answered but not timed. `done` prints one
-- JSON line for the bench to read. One thread only: the slots and the send times are the thread's.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } sigil_timespec;
  int clock_gettime(int clock, sigil_timespec *time);
]]
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("sigil_timespec")
local function now_micros()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1e6 + tonumber(timespec.tv_nsec) / 1e3
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  path = args[1]
  local file = assert(io.open(args[2]))
  local template = file:read("*l")
  file:close()
  local at = assert(template:find("@SEQ@", 1, true), "the template has no @SEQ@")
  prefix, suffix = template:sub(1, at - 1), template:sub(at + 5)
  interval = 1e6 / tonumber(args[3])
  warmup_micros = tonumber(args[4] or "1") * 1e6
  headers = { ["Content-Type"] = "application/json" }
  first_slot = nil
  claimed = 0
  -- Claimed slots not yet sent, in claim order: wrk sends them in that order (timers fire by due time).
  due, free_at, head, tail = {}, {}, 1, 0
  started = {}
  sequence = 0
  latencies = {}
  answered, unmatched, not_ok = 0, 0, 0
end

function delay()
  local now = now_micros()
  if first_slot == nil then first_slot = now end
  local slot = first_slot + claimed * interval
  claimed = claimed + 1
  tail = tail + 1
  due[tail], free_at[tail] = slot, now
  if slot <= now then return 0 end
  return math.floor((slot - now) / 1000)
end

function request()
  local now = now_micros()
  if first_slot == nil then first_slot = now end
  local slot, free = now, now
  if head <= tail then
    slot, free = due[head], free_at[head]
    due[head], free_at[head] = nil, nil
    head = head + 1
  end
  sequence = sequence + 1
  -- false: answered, not timed (warm-up)
  started[sequence] = (slot - first_slot >= warmup_micros) and ((free > slot) and slot or now)
  return wrk.format("POST", path, headers, prefix .. sequence .. suffix)
end

function response(status, headers, body)
  local now = now_micros()
  local number = tonumber(body:match('"uid":"paced%-(%d+)"'))
  local start = number and started[number]
  if start == nil then
    unmatched = unmatched + 1
    return
  end
  started[number] = nil
  if status ~= 200 then not_ok = not_ok + 1 end
  if start == false then return end
  answered = answered + 1
  latencies[answered] = now - start
end

function done(summary, latency, requests)
  local all, unmatched_total, not_ok_total = {}, 0, 0
  for _, thread in ipairs(threads) do
    for _, value in ipairs(thread:get("latencies")) do all[#all + 1] = value end
    unmatched_total = unmatched_total + thread:get("unmatched")
    not_ok_total = not_ok_total + thread:get("not_ok")
  end
  table.sort(all)
  local function percentile(p)
    if #all == 0 then return 0 end
    return all[math.min(#all, math.floor(#all * p / 100) + 1)]
  end
  io.write(string.format(
    '{"requests":%d,"timed":%d,"durationMicros":%d,"statusErrors":%d,"socketErrors":%d,"unmatched":%d,' ..
    '"p50Micros":%d,"p90Micros":%d,"p99Micros":%d,"p999Micros":%d,"maxMicros":%d}\n',
    summary.requests, #all, summary.duration, not_ok_total,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    unmatched_total, percentile(50), percentile(90), percentile(99), percentile(99.9), percentile(100)))
end
