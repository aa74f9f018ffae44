-- list (Are-We-Fast-Yet): the Takeuchi function over linked lists.
local harness = require "harness"
local n = harness.size(1000)

local Element = {}
Element.__index = Element

function Element.new(v) return setmetatable({val = v, next = nil}, Element) end

function Element:length()
  if self.next == nil then return 1 end
  return 1 + self.next:length()
end

local function make_list(length)
  if length == 0 then return nil end
  local e = Element.new(length)
  e.next = make_list(length - 1)
  return e
end

local function is_shorter_than(x, y)
  local x_tail, y_tail = x, y
  while y_tail ~= nil do
    if x_tail == nil then return true end
    x_tail = x_tail.next
    y_tail = y_tail.next
  end
  return false
end

local function tail(x, y, z)
  if is_shorter_than(y, x) then
    return tail(tail(x.next, y, z), tail(y.next, z, x), tail(z.next, x, y))
  end
  return z
end

harness.run("list", n, function()
  return tail(make_list(15), make_list(10), make_list(6)):length()
end, function(r) return r == 10 end)
