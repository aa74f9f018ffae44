for i = 1, 3 do io.write(i, " ") end print()
for i = 3, 1, -1 do io.write(i, " ") end print()
for i = 1, 0 do print("never") end
for i = 0, 1, 0.25 do io.write(i, " ") end print()
for i = 1, 2, 0.5 do io.write(i, " ") end print()
for i = 10, 1, -3 do io.write(i, " ") end print()
for i = -1, -3, -1 do io.write(i, " ") end print()
for i = 1.5, 3 do io.write(i, " ") end print()
local n = 0
for i = 0.1, 0.3, 0.1 do n = n + 1 end
print(n)
-- modifying the loop variable does not change the iteration
for i = 1, 3 do local j = i; i = i * 10; io.write(j, ":", i, " ") end print()
for i = "1", "2" do io.write(i, " ") end print()
