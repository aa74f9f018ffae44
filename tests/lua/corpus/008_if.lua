local function classify(n)
  if n < 0 then return "neg"
  elseif n == 0 then return "zero"
  elseif n < 10 then return "small"
  else return "big" end
end
for _, n in ipairs({-5, 0, 3, 100}) do print(n, classify(n)) end
if nil then print("no") end
if false then print("no") else print("else") end
if 0 then print("zero is true") end
