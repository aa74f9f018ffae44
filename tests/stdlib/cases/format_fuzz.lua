-- Differential test of string.format over many flag/width/precision combinations.
local flags = {"", "-", "+", " ", "#", "0", "-+", "0#", "- 0"}
local widths = {"", "1", "5", "12"}
local precs = {"", ".0", ".1", ".3", ".10"}
local convs = {"d", "i", "u", "o", "x", "X", "e", "E", "f", "g", "G", "c", "s", "q"}
local values = {0, 1, -1, 3.14159, -2.5, 1e10, 1e-7, 255, 65, 2^31 + 0.5, -2^40, 1/0, -1/0, 123456789012}
for _, c in ipairs(convs) do
  for _, fl in ipairs(flags) do
    for _, w in ipairs(widths) do
      for _, pr in ipairs(precs) do
        local spec = "%" .. fl .. w .. pr .. c
        local out = {}
        for _, v in ipairs(values) do
          local arg = v
          if c == "s" or c == "q" then arg = tostring(v) .. "\n\"x\\" end
          if c == "c" and (v ~= v or v == 1/0 or v == -1/0) then arg = 66 end
          local ok, r = pcall(string.format, spec, arg)
          out[#out + 1] = ok and ("[" .. r .. "]") or ("E:" .. r)
        end
        print(spec, table.concat(out, " "))
      end
    end
  end
end
