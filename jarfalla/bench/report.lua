-- wrk script for `make bench` (jarfalla/bench/loadgen.py).
--
-- The request comes from a file named by the first script argument: the method on the first
-- line, then "Name: value" header lines, an empty line and the body (e.g. a form with its CSRF
-- token). Each thread counts the responses per status; done() prints one line,
-- "BENCH_RESULT {json}", with the latency percentiles (microseconds) and those counts.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   statuses = {}
   local spec = args[1]
   if spec == nil then
      return
   end
   local file = assert(io.open(spec, "rb"))
   local text = file:read("*a")
   file:close()
   local head, body = text:match("^(.-)\n\n(.*)$")
   if head == nil then
      head, body = text, ""
   end
   local first = true
   for line in head:gmatch("[^\n]+") do
      if first then
         wrk.method = line
         first = false
      else
         local name, value = line:match("^([^:]+):%s*(.*)$")
         if name then
            wrk.headers[name] = value
         end
      end
   end
   if #body > 0 then
      wrk.body = body
   end
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local counts = {}
   for _, thread in ipairs(threads) do
      local seen = thread:get("statuses") or {}
      for code, n in pairs(seen) do
         counts[code] = (counts[code] or 0) + n
      end
   end
   local parts = {}
   for code, n in pairs(counts) do
      table.insert(parts, string.format('"%d": %d', code, n))
   end
   local errors = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"duration_us": %d, "requests": %d, "bytes": %d, '
         .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
         .. '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "mean": %.1f, "max": %d}, '
         .. '"statuses": {%s}}\n',
      summary.duration, summary.requests, summary.bytes,
      errors.connect, errors.read, errors.write, errors.status, errors.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.mean, latency.max,
      table.concat(parts, ", ")
   ))
end
