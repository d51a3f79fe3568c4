-- wrk script for the ingest benchmarks (scripts/bench-ingest, scripts/bench-probot): the same
-- signed body with a distinct X-GitHub-Delivery per request. The request is built once but for
-- the delivery id, and each request is one concatenation: the load generator shares the two
-- cores with the server, so every microsecond it spends is taken from the server it measures.
-- env: BODY_FILE, SIG (the body's X-Hub-Signature-256), RUN (delivery id prefix), TARGET (path),
--      BODIES (optional, see below)
-- With BODIES (a file of "<signature> <body file>" lines) the requests cycle through those
-- bodies instead: deliveries for many pull requests.
local function read(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  return text
end
local heads, tails = {}, {}
local function add(body, sig)
  heads[#heads + 1] = "POST " .. os.getenv("TARGET") .. " HTTP/1.1\r\n"
    .. "Host: 127.0.0.1\r\n"
    .. "Content-Type: application/json\r\n"
    .. "X-GitHub-Event: pull_request\r\n"
    .. "X-Hub-Signature-256: " .. sig .. "\r\n"
    .. "Content-Length: " .. #body .. "\r\n"
    .. "X-GitHub-Delivery: " .. os.getenv("RUN") .. "-"
  tails[#tails + 1] = "\r\n\r\n" .. body
end
local list = os.getenv("BODIES")
if list and list ~= "" then
  for line in io.lines(list) do
    local sig, path = line:match("^(%S+) (.+)$")
    add(read(path), sig)
  end
else
  add(read(os.getenv("BODY_FILE")), os.getenv("SIG"))
end
local count = #heads
local n = 0
request = function()
  n = n + 1
  local i = n % count + 1
  return heads[i] .. n .. tails[i]
end
done = function(summary, latency)
  io.write(string.format("RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f requests=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
