local function chars(s)
  local i = 0
  return function() i = i + 1; if i <= #s then return s:sub(i, i) end end
end
for c in chars("abc") do io.write(c, ".") end print()
local function fib_gen(limit)
  local a, b = 0, 1
  return function() if a > limit then return nil end local r = a; a, b = b, a + b; return r end
end
local out = {}
for v in fib_gen(100) do out[#out + 1] = v end
print(table.concat(out, " "))
local function stateless(t, i) i = i + 2; if t[i] then return i, t[i] end end
for i, v in stateless, {"a", "b", "c", "d", "e"}, -1 do io.write(i, v, " ") end print()
