-- wrk script for bench/load: rotates through pre-built requests.
--
-- WRK_DATA names a file with one request per line: METHOD<TAB>PATH<TAB>TOKEN<TAB>BODY
-- (TOKEN and BODY may be empty). Each connection's requests cycle through the lines, each
-- thread starting at a different line, so POST bodies and Authorization headers rotate
-- (e.g. 32 enterprise users filing, or 32 users logging in with their own password).
-- WRK_OUT names a file that done() writes one line of results to:
--   requests duration_us p50_us p99_us mean_us max_us connect read write status timeout
-- ("status" is wrk's count of responses with status >= 400).

local threads = {}
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("tid", counter)
   table.insert(threads, thread)
end

local reqs = {}
local n = 0
local i = 0

local function split(line)
   local fields = {}
   local start = 1
   while true do
      local tab = string.find(line, "\t", start, true)
      if not tab then
         table.insert(fields, string.sub(line, start))
         break
      end
      table.insert(fields, string.sub(line, start, tab - 1))
      start = tab + 1
   end
   return fields
end

function init(args)
   local path = os.getenv("WRK_DATA")
   local f = assert(io.open(path, "r"), "cannot open WRK_DATA " .. tostring(path))
   for line in f:lines() do
      if #line > 0 then
         local fld = split(line)
         local headers = { ["Accept"] = "application/json" }
         if fld[3] and #fld[3] > 0 then
            headers["Authorization"] = "Bearer " .. fld[3]
         end
         local body = nil
         if fld[4] and #fld[4] > 0 then
            body = fld[4]
            headers["Content-Type"] = "application/json"
         end
         table.insert(reqs, wrk.format(fld[1], fld[2], headers, body))
      end
   end
   f:close()
   n = #reqs
   assert(n > 0, "no requests in " .. path)
   local tid = tonumber(tid) or 1
   i = ((tid - 1) * 7) % n
end

function request()
   i = i + 1
   if i > n then i = 1 end
   return reqs[i]
end

function done(summary, latency, requests)
   local out = os.getenv("WRK_OUT")
   if not out then return end
   local f = assert(io.open(out, "w"))
   local e = summary.errors
   f:write(string.format("%d %d %d %d %.1f %d %d %d %d %d %d\n",
      summary.requests, summary.duration,
      latency:percentile(50.0), latency:percentile(99.0), latency.mean, latency.max,
      e.connect, e.read, e.write, e.status, e.timeout))
   f:close()
end
