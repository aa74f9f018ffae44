-- fasta: generate DNA sequences by copying and by weighted random selection.
-- The full output goes to stdout only with a second argument "print"; by default
-- a per-section checksum keeps the expected output small.
local harness = require "harness"
local fasta = require "fasta_lib"
local n = harness.size(1000000)
local print_all = arg and arg[2] == "print"

local section, lines, chars, hash = nil, 0, 0, 0
local function flush()
  if section then io.write(string.format("%s lines=%d chars=%d hash=%d\n", section, lines, chars, hash)) end
end
fasta.generate(n, function(line)
  if print_all then io.write(line, "\n") return end
  if line:sub(1, 1) == ">" then
    flush()
    section, lines, chars, hash = line:match("^>(%S+)"), 0, 0, 0
  else
    lines = lines + 1
    chars = chars + #line
    for i = 1, #line, 7 do hash = (hash * 31 + line:byte(i)) % 1000000007 end
  end
end)
flush()
