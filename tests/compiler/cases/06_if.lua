local a = 3
if a then print(1) end
if a == 1 then
  print("one")
elseif a == 2 then
  print("two")
elseif a == 3 then
  print("three")
else
  print("other")
end
if a and a > 2 then print("x") else print("y") end
if not a then print("z") end
if a or b then print("w") end
if true then print("t") end
if false then print("f") end
if nil then print("n") else print("e") end
if 1 then print(1) end
if "s" then print(2) end
if a then elseif a then else end
