-- wrk script: password sign-ins with valid accounts, spread at random over BENCH_ACCOUNTS
-- accounts (load-test-N@example.com), as a same-origin browser would post them, from
-- BENCH_CLIENTS client addresses (198.51.100.N, a documentation range) named in
-- X-Forwarded-For as the server's own proxy would: the server is started trusting it.
local origin = os.getenv("BENCH_ORIGIN")
local password = os.getenv("BENCH_PASSWORD")
local accounts = tonumber(os.getenv("BENCH_ACCOUNTS"))
local clients = tonumber(os.getenv("BENCH_CLIENTS"))

local headers = {
  ["Content-Type"] = "application/x-www-form-urlencoded",
  ["Accept"] = "application/json",
  ["Origin"] = origin,
}

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(seed or os.time())
end

function request()
  local body = "email=load-test-" .. math.random(0, accounts - 1) .. "%40example.com&password=" .. password
  headers["X-Forwarded-For"] = "198.51.100." .. math.random(1, clients)
  return wrk.format("POST", nil, headers, body)
end
