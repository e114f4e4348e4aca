-- wrk script for the load generator cross-check (run.py, part 1): POSTs one
-- Argus event per request, each with a fresh dedupKey, cycling over 1,000
-- grouping values like build/bin/loadgen. Prints one JSON line at the end.
--   wrk -t2 -c8 -d3s -s tools/bench/events.lua http://127.0.0.1:PORT/v1/events
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local counter = 0
local headers = { ["Content-Type"] = "application/json" }

function request()
  counter = counter + 1
  local body = '{"event_manager_id":"bench","summary":"benchmark event",' ..
    '"severity":"high","action":"trigger","class":"c' .. (counter % 1000) ..
    '","dedupKey":"w' .. id .. '-' .. counter .. '","host":"bench-host-01"}'
  return wrk.format("POST", nil, headers, body)
end

function done(summary, latency, requests)
  io.write(string.format(
    'WRKJSON {"requests":%d,"seconds":%.6f,"non2xx":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write +
      summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
