-- scimark: the five SciMark 2 kernels (FFT, SOR, Monte Carlo, sparse matrix
-- multiply, LU factorisation) on small problem sizes. Prints checksums of the
-- results instead of MFlops so the output is comparable between VMs.
local harness = require "harness"
local n = harness.size(50)

-- Park-Miller minimal standard generator: exact in doubles, same on every VM.
local Random = {}
Random.__index = Random
function Random.new(seed) return setmetatable({seed = seed}, Random) end
function Random:next()
  self.seed = (self.seed * 16807) % 2147483647
  return self.seed / 2147483647
end

local function fft_bitreverse(v, count)
  local j = 0
  for i = 0, 2 * count - 4, 2 do
    if i < j then
      v[i + 1], v[j + 1] = v[j + 1], v[i + 1]
      v[i + 2], v[j + 2] = v[j + 2], v[i + 2]
    end
    local k = count
    while k <= j do j = j - k; k = k / 2 end
    j = j + k
  end
end

local function fft_transform(v, count, dir)
  if count <= 1 then return end
  fft_bitreverse(v, count)
  local dual = 1
  repeat
    local dual2 = 2 * dual
    for i = 1, 2 * count - 1, 2 * dual2 do
      local j = i + dual2
      local ir, ii, jr, ji = v[i], v[i + 1], v[j], v[j + 1]
      v[j], v[j + 1] = ir - jr, ii - ji
      v[i], v[i + 1] = ir + jr, ii + ji
    end
    local theta = dir * math.pi / dual
    local s, s2 = math.sin(theta), 2.0 * math.sin(theta * 0.5) ^ 2
    local wr, wi = 1.0, 0.0
    for a = 3, dual2 - 1, 2 do
      wr, wi = wr - s * wi - s2 * wr, wi + s * wr - s2 * wi
      for i = a, a + 2 * (count - dual2), 2 * dual2 do
        local j = i + dual2
        local jr, ji = v[j], v[j + 1]
        local dr, di = wr * jr - wi * ji, wr * ji + wi * jr
        local ir, ii = v[i], v[i + 1]
        v[j], v[j + 1] = ir - dr, ii - di
        v[i], v[i + 1] = ir + dr, ii + di
      end
    end
    dual = dual2
  until dual >= count
end

local function fft(cycles)
  local size = 1024
  local rnd = Random.new(101010)
  local v = {}
  for i = 1, 2 * size do v[i] = rnd:next() end
  local orig = {}
  for i = 1, 2 * size do orig[i] = v[i] end
  for _ = 1, cycles do
    fft_transform(v, size, -1)
    fft_transform(v, size, 1)
    for i = 1, 2 * size do v[i] = v[i] / size end
  end
  local err = 0
  for i = 1, 2 * size do err = err + (v[i] - orig[i]) ^ 2 end
  return math.sqrt(err / size) < 1e-10 and "ok" or "error too large"
end

local function sor(cycles)
  local size, omega = 100, 1.25
  local rnd = Random.new(7)
  local g = {}
  for i = 1, size do
    local row = {}
    for j = 1, size do row[j] = rnd:next() end
    g[i] = row
  end
  local om4, om1 = omega * 0.25, 1.0 - omega
  for _ = 1, cycles do
    for i = 2, size - 1 do
      local gi, gim, gip = g[i], g[i - 1], g[i + 1]
      for j = 2, size - 1 do
        gi[j] = om4 * (gim[j] + gip[j] + gi[j - 1] + gi[j + 1]) + om1 * gi[j]
      end
    end
  end
  local sum = 0
  for i = 1, size do for j = 1, size do sum = sum + g[i][j] end end
  return string.format("%.8f", sum)
end

local function monte_carlo(cycles)
  local rnd = Random.new(113)
  local under = 0
  local samples = cycles * 20000
  for _ = 1, samples do
    local x, y = rnd:next(), rnd:next()
    if x * x + y * y <= 1.0 then under = under + 1 end
  end
  return string.format("%.6f", under / samples * 4.0)
end

local function sparse_matmult(cycles)
  local size, nz = 1000, 5000
  local rnd = Random.new(4242)
  local x, y = {}, {}
  for i = 1, size do x[i] = rnd:next(); y[i] = 0 end
  local nr = math.floor(nz / size)
  local row, col, val = {}, {}, {}
  row[1] = 1
  for r = 1, size do
    local rowr = row[r]
    row[r + 1] = rowr + nr
    local step = math.floor(r / nr)
    if step < 1 then step = 1 end
    for i = 0, nr - 1 do
      col[rowr + i] = i * step + 1
      val[rowr + i] = rnd:next()
    end
  end
  for _ = 1, cycles * 10 do
    for r = 1, size do
      local sum = 0
      for i = row[r], row[r + 1] - 1 do sum = sum + x[col[i]] * val[i] end
      y[r] = sum
    end
  end
  local s = 0
  for i = 1, size do s = s + y[i] end
  return string.format("%.8f", s)
end

local function lu_factor(a, pivot, size)
  for j = 1, size do
    local jp, t = j, math.abs(a[j][j])
    for i = j + 1, size do
      local ab = math.abs(a[i][j])
      if ab > t then jp, t = i, ab end
    end
    pivot[j] = jp
    if a[jp][j] == 0 then return false end
    if jp ~= j then a[j], a[jp] = a[jp], a[j] end
    if j < size then
      local recp = 1.0 / a[j][j]
      for k = j + 1, size do a[k][j] = a[k][j] * recp end
    end
    local aj = a[j]
    for ii = j + 1, size do
      local aii = a[ii]
      local aiij = aii[j]
      for jj = j + 1, size do aii[jj] = aii[jj] - aiij * aj[jj] end
    end
  end
  return true
end

local function lu(cycles)
  local size = 60
  local rnd = Random.new(2718)
  local base = {}
  for i = 1, size do
    base[i] = {}
    for j = 1, size do base[i][j] = rnd:next() end
  end
  local a, pivot
  for _ = 1, cycles do
    a, pivot = {}, {}
    for i = 1, size do
      local r = {}
      for j = 1, size do r[j] = base[i][j] end
      a[i] = r
    end
    if not lu_factor(a, pivot, size) then return "singular" end
  end
  local det = 1
  for i = 1, size do det = det * a[i][i] end
  local psum = 0
  for i = 1, size do psum = psum + pivot[i] * i end
  return string.format("%.6e pivots %d", math.abs(det), psum)
end

io.write("FFT         ", fft(n * 2), "\n")
io.write("SOR         ", sor(n * 2), "\n")
io.write("MonteCarlo  ", monte_carlo(n), "\n")
io.write("SparseMult  ", sparse_matmult(n), "\n")
io.write("LU          ", lu(n), "\n")
