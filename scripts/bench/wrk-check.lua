-- wrk script of the benchmark (scripts/bench/wrk.ts): every answer must be a
-- 200 with exactly the body the API itself gave, which is in the file named by
-- BENCH_EXPECTED_BODY. A proxy that answers fast but wrong is counted, not
-- measured. done() prints one line for wrk.ts to read: the counts, the
-- latency percentiles (microseconds) and the first wrong answer.

local file = assert(io.open(os.getenv("BENCH_EXPECTED_BODY"), "rb"))
local expected = file:read("*a")
file:close()

-- The request's headers ("name: value" lines) come from a file too: a session cookie
-- on wrk's command line would be there for anyone to read in ps.
for line in io.lines(os.getenv("BENCH_HEADERS")) do
  local name, value = string.match(line, "^([^:]+):%s*(.*)$")
  if name then
    wrk.headers[name] = value
  end
end

-- Globals of each thread's Lua state, read back by done() with thread:get.
mismatches = 0
first_mismatch = ""

function response(status, headers, body)
  if status ~= 200 or body ~= expected then
    mismatches = mismatches + 1
    if first_mismatch == "" then
      first_mismatch = status .. " " .. string.sub(body or "", 1, 160)
    end
  end
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local wrong = 0
  local sample = ""
  for _, thread in ipairs(threads) do
    wrong = wrong + thread:get("mismatches")
    if sample == "" then
      sample = thread:get("first_mismatch")
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH-WRK {"requests":%.0f,"durationUs":%.0f,"connect":%.0f,"read":%.0f,"write":%.0f,"timeout":%.0f,"mismatches":%.0f,"p50Us":%.1f,"p99Us":%.1f}\n',
    summary.requests, summary.duration, errors.connect, errors.read, errors.write, errors.timeout, wrong,
    latency:percentile(50), latency:percentile(99)))
  io.write("BENCH-WRK-SAMPLE " .. string.gsub(sample, "[\r\n]", " ") .. "\n")
end
