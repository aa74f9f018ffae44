do local a = 1 end
do
  local b = 2
  local f = function() return b end
end
do
  local c = 3
  do
    local d = c
    local g = function() return d end
  end
  local e = c
end
do end
do local y end
