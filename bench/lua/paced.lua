-- bench.lua with a pause of BENCH_PACE_MS between requests on each connection: an offered
-- load well below saturation, for latency targets. (A closed loop at saturation measures
-- the queue in front of the server, not the server: on 2 cores even bare Flask has a p99
-- of tens of milliseconds there.)
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)")
dofile(here .. "bench.lua")

local pace_ms = tonumber(os.getenv("BENCH_PACE_MS") or "10")

function delay()
   return pace_ms
end
