-- k-nucleotide: frequencies of k-mers in the third fasta section. The input is
-- produced in memory by the fasta generator (the shootout pipes fasta into it).
local harness = require "harness"
local fasta = require "fasta_lib"
local n = harness.size(100000)

local parts, in_three = {}, false
fasta.generate(n, function(line)
  if line:sub(1, 1) == ">" then
    in_three = line:sub(2, 6) == "THREE"
  elseif in_three then
    parts[#parts + 1] = line:upper()
  end
end)
local seq = table.concat(parts)

local function count(frame)
  local counts = {}
  for i = 1, #seq - frame + 1 do
    local key = seq:sub(i, i + frame - 1)
    counts[key] = (counts[key] or 0) + 1
  end
  return counts
end

local function write_frequencies(frame)
  local counts = count(frame)
  local keys, total = {}, 0
  for k, v in pairs(counts) do keys[#keys + 1] = k; total = total + v end
  table.sort(keys, function(a, b)
    local ca, cb = counts[a], counts[b]
    if ca ~= cb then return ca > cb end
    return a < b
  end)
  for _, k in ipairs(keys) do io.write(string.format("%s %0.3f\n", k, counts[k] * 100 / total)) end
  io.write("\n")
end

local function write_count(fragment)
  local counts = count(#fragment)
  io.write((counts[fragment] or 0), "\t", fragment, "\n")
end

write_frequencies(1)
write_frequencies(2)
for _, f in ipairs({"GGT", "GGTA", "GGTATT", "GGTATTTTAATT", "GGTATTTTAATTTATAGT"}) do write_count(f) end
