-- wrk script for one benchmark route.
--
--   wrk ... -s route.lua http://127.0.0.1:PORT -- PATHS_FILE
--
-- Cycles through the request paths in PATHS_FILE (one per line, already percent-encoded),
-- counts responses whose status is not 2xx (and those neither 2xx nor 3xx), and prints one
-- line when the run ends:
--   BENCH_JSON {"requests": ..., "errors": {...}, "non_2xx": ..., "latency_us": {...}}
-- wrk measures latency in microseconds.

local paths = {}
local position = 0
local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  local file = args[1]
  if file == nil then
    error("usage: wrk ... -s route.lua URL -- PATHS_FILE")
  end
  for line in io.lines(file) do
    if line ~= "" then
      paths[#paths + 1] = line
    end
  end
  if #paths == 0 then
    error("no request paths in " .. file)
  end
  -- Threads start at different places in the list.
  position = (thread_index or 0) * 7 % #paths
  non_2xx = 0
  non_2xx_3xx = 0
end

function request()
  position = position % #paths + 1
  return wrk.format("GET", paths[position])
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non_2xx = non_2xx + 1
    if status > 399 or status < 200 then
      non_2xx_3xx = non_2xx_3xx + 1
    end
  end
end

function done(summary, latency, requests)
  local non, failed = 0, 0
  for _, thread in ipairs(threads) do
    non = non + (thread:get("non_2xx") or 0)
    failed = failed + (thread:get("non_2xx_3xx") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"non_2xx":%d,"non_2xx_3xx":%d,"latency_us":{"mean":%.1f,"stdev":%.1f,"min":%d,"max":%d,' ..
    '"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    non, failed, latency.mean, latency.stdev, latency.min, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9)))
end
