print(table.maxn({1, 2, nil, 4}), table.maxn({}), table.maxn({[10] = 1, [2.5] = 1}))
local t = {}
table.insert(t, 1)
print(#t, table.getn and table.getn(t))
print(next({}, nil))
local keys = {}
table.foreach({a = 1, b = 2}, function(k, v) keys[#keys + 1] = k .. v end)
table.sort(keys)
print(table.concat(keys, ","))
table.foreachi({"x", "y"}, function(i, v) io.write(i, v, " ") end)
print()
