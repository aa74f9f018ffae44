local function walk(t, visit, depth)
  depth = depth or 0
  for _, k in ipairs(t.keys or {}) do
    visit(k, depth)
    if t[k] then walk(t[k], visit, depth + 1) end
  end
end
local tree = {keys = {"a", "b"}, a = {keys = {"a1", "a2"}}, b = {keys = {"b1"}, b1 = {keys = {"deep"}}}}
local lines = {}
walk(tree, function(k, d) lines[#lines + 1] = string.rep("  ", d) .. k end)
print(table.concat(lines, "\n"))
local function perms(a, n, out)
  n = n or #a
  if n <= 1 then out[#out + 1] = table.concat(a) return end
  for i = 1, n do
    a[n], a[i] = a[i], a[n]
    perms(a, n - 1, out)
    a[n], a[i] = a[i], a[n]
  end
end
local out = {}
perms({"a", "b", "c"}, nil, out)
table.sort(out)
print(table.concat(out, " "))
