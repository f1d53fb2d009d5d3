-- wrk script for every benchmark scenario; the mode comes after `--` on wrk's command line:
--   fixed <path>              the same path every time (cached lookup, bare ceiling)
--   distinct <salt>           a word never asked before (uncached lookups)
--   words <file>              a random line of <file>, already a URL path (WordNet lemmas)
--   mixed <salt> <hot> <pct>  <pct>% one of <hot> repeated words, the rest distinct words
-- done() prints one JSON line: requests, duration, latency percentiles, counts by status.

local threads = {}
local next_id = 0

function setup(thread)
   next_id = next_id + 1
   thread:set("tid", next_id)
   table.insert(threads, thread)
end

-- Numbers are written in base 26 so that the words stay letters only, like most words.
local function letters(n)
   local s = ""
   repeat
      local r = n % 26
      s = string.char(97 + r) .. s
      n = (n - r) / 26
   until n == 0
   return s
end

local mode, salt, paths, hot, hot_pct, prefix
local counter = 0
statuses = {}

function init(args)
   mode = args[1]
   -- Paths are relative to the URL's own path (the fake upstream's is /api/v2/entries/en).
   prefix = wrk.path:gsub("/$", "")
   if mode == "fixed" then
      paths = { args[2] }
   elseif mode == "words" then
      paths = {}
      for line in io.lines(args[2]) do
         table.insert(paths, line)
      end
   elseif mode == "distinct" or mode == "mixed" then
      salt = args[2] .. "x" .. letters(tid) .. "q"
      hot = tonumber(args[3] or "0")
      hot_pct = tonumber(args[4] or "0")
   else
      error("unknown mode " .. tostring(mode))
   end
   math.randomseed(os.time() + tid * 7919)
end

local function distinct()
   counter = counter + 1
   return "/" .. salt .. letters(counter)
end

function request()
   local path
   if mode == "fixed" then
      path = paths[1]
   elseif mode == "words" then
      path = paths[math.random(#paths)]
   elseif mode == "mixed" and math.random(100) <= hot_pct then
      path = "/hot" .. letters(math.random(hot) - 1)
   else
      path = distinct()
   end
   return wrk.format("GET", prefix .. path)
end

function response(status, headers, body)
   local key = tostring(status)
   statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
   local counts = {}
   for _, thread in ipairs(threads) do
      for status, n in pairs(thread:get("statuses")) do
         counts[status] = (counts[status] or 0) + n
      end
   end
   local parts = {}
   for status, n in pairs(counts) do
      table.insert(parts, string.format('"%s":%d', status, n))
   end
   local e = summary.errors
   io.write(string.format(
      '{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,'
         .. '"statuses":{%s},"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d}}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
      latency.max, table.concat(parts, ","), e.connect, e.read, e.write, e.timeout))
end
