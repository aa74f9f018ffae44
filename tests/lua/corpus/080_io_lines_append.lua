local name = os.tmpname()
local f = io.open(name, "w")
for i = 1, 5 do f:write(i, "\n") end
f:close()
f = io.open(name, "a")
f:write("6\n")
f:close()
local sum, n = 0, 0
for l in io.lines(name) do sum = sum + tonumber(l); n = n + 1 end
print(n, sum)
f = io.open(name)
local count = 0
for l in f:lines() do count = count + 1 end
f:close()
print(count)
io.output():write("via io.output\n")
io.write("chained", " ", "write\n")
local out = io.write("x")
print(out)
local g = io.open(name, "rb")
local all = g:read("*a")
g:close()
print(#all, select(2, all:gsub("\n", "")))
io.input(name)
print(io.read("*l"), io.read("*n"))
io.input():close()
os.remove(name)
