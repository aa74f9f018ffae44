for w in ("one two  three"):gmatch("%a+") do io.write(w, ";") end print()
for k, v in ("a=1, b=2, c=3"):gmatch("(%w+)=(%w+)") do io.write(k, v, " ") end print()
local n = 0
for _ in ("abc"):gmatch("") do n = n + 1 end
print(n)
for p in ("abc"):gmatch("()") do io.write(p, " ") end print()
for a in ("x1y22z333"):gmatch("%d+") do io.write(a, ",") end print()
