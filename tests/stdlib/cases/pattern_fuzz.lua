-- Differential fuzzing of the pattern matcher: random patterns and subjects
-- from a fixed LCG (identical in both interpreters), results and errors printed.
local seed = 12345
local function rnd(n)
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed % n + 1
end
local atoms = {"a", "b", ".", "%a", "%d", "%s", "%w", "%p", "[ab]", "[^a]", "[a-c]", "%%", "(", ")", "()",
               "%b()", "%f[%w]", "%1", "^", "$", "x", "[%d%s]", "%A", "-", "[", "%"}
local quants = {"", "", "", "*", "+", "-", "?"}
local chars = {"a", "b", "c", "1", "2", " ", "(", ")", "x", ".", "%", "-"}
local function show(ok, ...)
  local t = {tostring(ok)}
  for i = 1, select('#', ...) do t[#t + 1] = tostring((select(i, ...))) end
  return table.concat(t, ",")
end
local counter = 0
local function repl(...)
  counter = counter + 1
  if counter % 3 == 0 then return nil end
  return "<" .. tostring((...)) .. ">"
end
for i = 1, 400 do
  local p = {}
  for j = 1, rnd(5) do p[#p + 1] = atoms[rnd(#atoms)] .. quants[rnd(#quants)] end
  p = table.concat(p)
  local s = {}
  for j = 1, rnd(12) - 1 do s[#s + 1] = chars[rnd(#chars)] end
  s = table.concat(s)
  local init = rnd(7) - 3
  print(i, string.format("%q %q %d", s, p, init))
  print("  find", show(pcall(string.find, s, p, init)))
  print("  match", show(pcall(string.match, s, p)))
  print("  gsub", show(pcall(string.gsub, s, p, "[%0]")))
  print("  gsubf", show(pcall(string.gsub, s, p, repl, 3)))
  local ok, it = pcall(string.gmatch, s, p)
  local out = {}
  if ok then
    local ok2, msg = pcall(function()
      for a, b in it do
        out[#out + 1] = tostring(a) .. "/" .. tostring(b)
        if #out > 20 then break end
      end
    end)
    if not ok2 then out[#out + 1] = "error: " .. msg end
  end
  print("  gmatch", table.concat(out, " "))
end
