local transitions = {
  start = function(c) if c == "a" then return "seen_a" end return "start" end,
  seen_a = function(c) if c == "b" then return "seen_ab" elseif c == "a" then return "seen_a" end return "start" end,
  seen_ab = function(c) if c == "c" then return "accept" end return c == "a" and "seen_a" or "start" end,
  accept = function() return "accept" end,
}
local function run(input)
  local state = "start"
  for c in input:gmatch(".") do state = transitions[state](c) end
  return state
end
print(run("xxabc"), run("ababab"), run("aabcz"), run(""))
