local function grade(s)
  if s >= 90 then return "A" elseif s >= 80 then return "B" elseif s >= 70 then return "C"
  elseif s >= 60 then return "D" else return "F" end
end
local out = {}
for s = 55, 100, 5 do out[#out + 1] = s .. grade(s) end
print(table.concat(out, " "))
local function sign(x) return x > 0 and 1 or x < 0 and -1 or 0 end
print(sign(5), sign(-5), sign(0))
