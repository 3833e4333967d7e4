-- wrk script: POST /api/v1/inspections, one deduction with a photo, a fresh
-- Idempotency-Key per request, merchants taken in turn from a range.
--
-- Environment (see README.md and seed.sh):
--   MENQIAN_TOKEN      officer bearer token
--   MENQIAN_MERCHANTS  merchant id range "first-last"
--   MENQIAN_PHOTO      id of a photo uploaded by an officer of the same county

local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  token = assert(os.getenv("MENQIAN_TOKEN"), "MENQIAN_TOKEN not set")
  local range = assert(os.getenv("MENQIAN_MERCHANTS"), "MENQIAN_MERCHANTS not set")
  first, last = range:match("^(%d+)-(%d+)$")
  first, last = tonumber(first), tonumber(last)
  photo = tonumber((assert(os.getenv("MENQIAN_PHOTO"), "MENQIAN_PHOTO not set")))
  math.randomseed(os.time() * 1000 + tid)
  -- Keys are unique per run, thread and request, so a rerun never replays.
  prefix = string.format("wrk-%d-%d-%d", os.time(), tid, math.random(1, 1000000000))
  counter = 0
  non201 = 0
  replayed = 0
end

function request()
  counter = counter + 1
  local m = first + (counter * 7 + tid) % (last - first + 1)
  local body = string.format(
    '{"merchant_id":%d,"items":[{"rule_code":"HJWS-01","points":1,"note":"门前烟头"}],"photos":[%d]}', m, photo)
  return wrk.format("POST", "/api/v1/inspections", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = prefix .. "-" .. counter,
  }, body)
end

function response(status, headers, body)
  if status ~= 201 then
    non201 = non201 + 1
    if non201 <= 3 then
      io.stderr:write("status " .. status .. ": " .. body .. "\n")
    end
  end
  if headers["Idempotent-Replayed"] then
    replayed = replayed + 1
  end
end

function done(summary, latency, requests)
  local bad, rep = 0, 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("non201")
    rep = rep + t:get("replayed")
  end
  io.write(string.format("requests %d, non-201 %d, replayed %d, %.0f inspections/s\n",
    summary.requests, bad, rep, (summary.requests - bad) / (summary.duration / 1e6)))
end
