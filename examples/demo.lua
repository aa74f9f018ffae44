-- The bundled demo workload: about five seconds of real work (a prime sieve,
-- an n-body simulation, string building) with progress lines, so that
-- jitscope has a live, busy VM to look at. Run: jitvm examples/demo.lua [seconds]

local seconds = tonumber(arg and arg[1]) or 5

local function sieve(limit)
  local composite = {}
  local count = 0
  for i = 2, limit do
    if not composite[i] then
      count = count + 1
      for j = i * i, limit, i do
        composite[j] = true
      end
    end
  end
  return count
end

-- Sun, Jupiter, Saturn (the classic benchmark's first three bodies).
local PI = math.pi
local SOLAR_MASS = 4 * PI * PI
local DAYS_PER_YEAR = 365.24

local function make_bodies()
  return {
    {x = 0, y = 0, z = 0, vx = 0, vy = 0, vz = 0, mass = SOLAR_MASS},
    {x = 4.84143144246472090e+00, y = -1.16032004402742839e+00, z = -1.03622044471123109e-01,
     vx = 1.66007664274403694e-03 * DAYS_PER_YEAR, vy = 7.69901118419740425e-03 * DAYS_PER_YEAR,
     vz = -6.90460016972063023e-05 * DAYS_PER_YEAR, mass = 9.54791938424326609e-04 * SOLAR_MASS},
    {x = 8.34336671824457987e+00, y = 4.12479856412430479e+00, z = -4.03523417114321381e-01,
     vx = -2.76742510726862411e-03 * DAYS_PER_YEAR, vy = 4.99852801234917238e-03 * DAYS_PER_YEAR,
     vz = 2.30417297573763929e-05 * DAYS_PER_YEAR, mass = 2.85885980666130812e-04 * SOLAR_MASS},
  }
end

local function advance(bodies, dt)
  local n = #bodies
  for i = 1, n do
    local bi = bodies[i]
    for j = i + 1, n do
      local bj = bodies[j]
      local dx, dy, dz = bi.x - bj.x, bi.y - bj.y, bi.z - bj.z
      local d2 = dx * dx + dy * dy + dz * dz
      local mag = dt / (d2 * math.sqrt(d2))
      bi.vx, bi.vy, bi.vz = bi.vx - dx * bj.mass * mag, bi.vy - dy * bj.mass * mag, bi.vz - dz * bj.mass * mag
      bj.vx, bj.vy, bj.vz = bj.vx + dx * bi.mass * mag, bj.vy + dy * bi.mass * mag, bj.vz + dz * bi.mass * mag
    end
  end
  for i = 1, n do
    local b = bodies[i]
    b.x, b.y, b.z = b.x + dt * b.vx, b.y + dt * b.vy, b.z + dt * b.vz
  end
end

local function energy(bodies)
  local e = 0
  for i = 1, #bodies do
    local bi = bodies[i]
    e = e + 0.5 * bi.mass * (bi.vx * bi.vx + bi.vy * bi.vy + bi.vz * bi.vz)
    for j = i + 1, #bodies do
      local bj = bodies[j]
      local dx, dy, dz = bi.x - bj.x, bi.y - bj.y, bi.z - bj.z
      e = e - bi.mass * bj.mass / math.sqrt(dx * dx + dy * dy + dz * dz)
    end
  end
  return e
end

local function checksum(n)
  local parts = {}
  for i = 1, n do
    parts[#parts + 1] = string.format("%x", (i * 2654435761) % 4294967296)
  end
  local s = table.concat(parts, ",")
  local sum = 0
  for i = 1, #s, 7 do
    sum = (sum * 31 + string.byte(s, i)) % 1000000007
  end
  return sum
end

print(string.format("demo: working for about %d seconds", seconds))
io.stdout:flush()
local start = os.clock()
local bodies = make_bodies()
local round = 0
local last_report = start
-- Progress twice a second (CPU time), whatever the speed of the VM or tier.
while os.clock() - start < seconds do
  round = round + 1
  local primes = sieve(20000 + (round % 100) * 1000)
  for _ = 1, 2000 do
    advance(bodies, 0.01)
  end
  local sum = checksum(2000)
  if os.clock() - last_report >= 0.5 then
    last_report = os.clock()
    print(string.format("round %4d  t=%5.2fs  primes=%d  energy=%.9f  checksum=%d",
                        round, last_report - start, primes, energy(bodies), sum))
    io.stdout:flush()
  end
end
print(string.format("demo: done after %d rounds", round))
