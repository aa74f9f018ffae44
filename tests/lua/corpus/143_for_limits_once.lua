local evals = 0
local function limit() evals = evals + 1; return 3 end
for i = 1, limit() do end
print(evals)
local n = 3
local count = 0
for i = 1, n do n = n + 1; count = count + 1 end
print(count, n)
local w = 0
local cond_evals = 0
while (function() cond_evals = cond_evals + 1; return w < 3 end)() do w = w + 1 end
print(cond_evals)
for i = 2^53 - 2, 2^53 - 1 do io.write(string.format("%.0f ", i)) end print()
