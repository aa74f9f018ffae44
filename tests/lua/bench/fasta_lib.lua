-- The fasta generator as a module: fasta.lua prints its output, k_nucleotide.lua
-- consumes it in memory, the way the shootout pipes one into the other.
local M = {}

local kIM, kIA, kIC = 139968, 3877, 29573
local kLineWidth = 60

local alu = "GGCCGGGCGCGGTGGCTCACGCCTGTAATCCCAGCACTTTGG" ..
  "GAGGCCGAGGCGGGCGGATCACCTGAGGTCAGGAGTTCGAGA" ..
  "CCAGCCTGGCCAACATGGTGAAACCCCGTCTCTACTAAAAAT" ..
  "ACAAAAATTAGCCGGGCGTGGTGGCGCGCGCCTGTAATCCCA" ..
  "GCTACTCGGGAGGCTGAGGCAGGAGAATCGCTTGAACCCGGG" ..
  "AGGCGGAGGTTGCAGTGAGCCGAGATCGCGCCACTGCACTCC" ..
  "AGCCTGGGCGACAGAGCGAGACTCCGTCTCAAAAA"

local iub = {
  {"a", 0.27}, {"c", 0.12}, {"g", 0.12}, {"t", 0.27},
  {"B", 0.02}, {"D", 0.02}, {"H", 0.02}, {"K", 0.02}, {"M", 0.02},
  {"N", 0.02}, {"R", 0.02}, {"S", 0.02}, {"V", 0.02}, {"W", 0.02}, {"Y", 0.02},
}

local homosapiens = {
  {"a", 0.3029549426680}, {"c", 0.1979883004921}, {"g", 0.1975473066391}, {"t", 0.3015094502008},
}

function M.new_random()
  local last = 42
  return function(max)
    last = (last * kIA + kIC) % kIM
    return max * last / kIM
  end
end

local function make_cumulative(tbl)
  local p, chars, probs = 0, {}, {}
  for i, pair in ipairs(tbl) do
    p = p + pair[2]
    chars[i], probs[i] = pair[1], p
  end
  return chars, probs
end

local function repeat_fasta(emit, src, n)
  local len = #src
  local s2 = src .. src:sub(1, kLineWidth)
  local pos = 1
  for _ = 1, math.floor(n / kLineWidth) do
    emit(s2:sub(pos, pos + kLineWidth - 1))
    pos = pos + kLineWidth
    if pos > len then pos = pos - len end
  end
  local rest = n % kLineWidth
  if rest > 0 then emit(s2:sub(pos, pos + rest - 1)) end
end

local function random_fasta(emit, rnd, tbl, n)
  local chars, probs = make_cumulative(tbl)
  local nchars = #chars
  local buf = {}
  local function line(width)
    for i = 1, width do
      local r = rnd(1)
      local c = chars[nchars]
      for k = 1, nchars do
        if r < probs[k] then c = chars[k]; break end
      end
      buf[i] = c
    end
    emit(table.concat(buf, "", 1, width))
  end
  for _ = 1, math.floor(n / kLineWidth) do line(kLineWidth) end
  local rest = n % kLineWidth
  if rest > 0 then line(rest) end
end

-- Calls emit(line) for every output line, headers included.
function M.generate(n, emit)
  local rnd = M.new_random()
  emit(">ONE Homo sapiens alu")
  repeat_fasta(emit, alu, 2 * n)
  emit(">TWO IUB ambiguity codes")
  random_fasta(emit, rnd, iub, 3 * n)
  emit(">THREE Homo sapiens frequency")
  random_fasta(emit, rnd, homosapiens, 5 * n)
end

return M
