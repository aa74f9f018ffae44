local t = {1, 2, 3}
for k, v in pairs(t) do print(k, v) end
for i, v in ipairs(t) do print(i, v) end
for k in next, t do print(k) end
for a, b, c, d in pairs(t) do print(a, b, c, d) end
for k, v in next, t, nil do end
for x in function() end do end
for k, v in pairs(t) do
  local f = function() return k, v end
  if k == 2 then break end
end
