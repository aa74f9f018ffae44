local function class(parent)
  local c = {}
  c.__index = c
  if parent then setmetatable(c, {__index = parent}) end
  c.new = function(...)
    local o = setmetatable({}, c)
    if o.init then o:init(...) end
    return o
  end
  return c
end
local Stack = class()
function Stack:init() self.items, self.n = {}, 0 end
function Stack:push(v) self.n = self.n + 1; self.items[self.n] = v end
function Stack:pop() local v = self.items[self.n]; self.items[self.n] = nil; self.n = self.n - 1; return v end
local Counted = class(Stack)
function Counted:init() Stack.init(self); self.pushes = 0 end
function Counted:push(v) self.pushes = self.pushes + 1; Stack.push(self, v) end
local s = Counted.new()
for i = 1, 5 do s:push(i * i) end
print(s:pop(), s:pop(), s.n, s.pushes)
