local function f(...) return select('#', ...) end
print(f(), f(nil), f(nil, nil), f(1, nil, 3))
local function g(...) local a, b = ...; return a, b end
print(g(1), g(1, 2, 3))
local function h(...) return ... end
print(h(1, 2, 3))
print((h(1, 2, 3)))
local function pack(...) return {n = select('#', ...), ...} end
local t = pack(1, nil, 3)
print(t.n, t[1], t[2], t[3])
print(select(2, "a", "b", "c"))
print(select(-1, "a", "b", "c"))
print(select('#'))
local function va(a, ...) return a, select('#', ...) end
print(va(1, 2, 3))
local function sum(...)
  local s = 0
  for i = 1, select('#', ...) do s = s + (select(i, ...)) end
  return s
end
print(sum(1, 2, 3, 4))
