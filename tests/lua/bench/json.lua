-- json: encode a generated document, parse it back with a recursive-descent
-- parser (object style, as in the Are-We-Fast-Yet Json benchmark) and re-encode.
local harness = require "harness"
local som = require "som"
local n = harness.size(100)

local Encoder = {}
Encoder.__index = Encoder

local escapes = {['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
                 ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t'}

local function escape_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

function Encoder.new() return setmetatable({out = {}}, Encoder) end

function Encoder:emit(s) local out = self.out; out[#out + 1] = s end

function Encoder:value(v)
  local t = type(v)
  if t == "table" then
    if v.__array then
      self:emit("[")
      for i = 1, v.n do
        if i > 1 then self:emit(",") end
        self:value(v[i])
      end
      self:emit("]")
    else
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = k end
      table.sort(keys)
      self:emit("{")
      for i, k in ipairs(keys) do
        if i > 1 then self:emit(",") end
        self:emit(escape_string(k))
        self:emit(":")
        self:value(v[k])
      end
      self:emit("}")
    end
  elseif t == "string" then
    self:emit(escape_string(v))
  elseif t == "number" then
    if v == math.floor(v) and math.abs(v) < 1e15 then self:emit(string.format("%d", v))
    else self:emit(string.format("%.14g", v)) end
  elseif t == "boolean" then
    self:emit(v and "true" or "false")
  elseif v == nil then
    self:emit("null")
  end
end

local function encode(v)
  local e = Encoder.new()
  e:value(v)
  return table.concat(e.out)
end

local NULL = setmetatable({}, {__tostring = function() return "null" end})

local Parser = {}
Parser.__index = Parser

function Parser.new(input) return setmetatable({input = input, pos = 1}, Parser) end

function Parser:fail(what)
  error(string.format("json: expected %s at position %d", what, self.pos), 0)
end

function Parser:skip_ws()
  self.pos = self.input:find("[^ \t\r\n]", self.pos) or #self.input + 1
end

function Parser:peek() return self.input:sub(self.pos, self.pos) end

function Parser:read_string()
  local parts = {}
  local pos = self.pos + 1
  while true do
    local c = self.input:sub(pos, pos)
    if c == '"' then break end
    if c == "" then self:fail("closing quote") end
    if c == "\\" then
      local e = self.input:sub(pos + 1, pos + 1)
      if e == "u" then
        parts[#parts + 1] = string.char(tonumber(self.input:sub(pos + 2, pos + 5), 16) % 256)
        pos = pos + 6
      else
        local map = {b = "\b", f = "\f", n = "\n", r = "\r", t = "\t"}
        parts[#parts + 1] = map[e] or e
        pos = pos + 2
      end
    else
      local stop = self.input:find('["\\]', pos) or #self.input + 1
      parts[#parts + 1] = self.input:sub(pos, stop - 1)
      pos = stop
    end
  end
  self.pos = pos + 1
  return table.concat(parts)
end

function Parser:read_value()
  self:skip_ws()
  local c = self:peek()
  if c == "{" then
    self.pos = self.pos + 1
    local obj = {}
    self:skip_ws()
    if self:peek() == "}" then self.pos = self.pos + 1; return obj end
    repeat
      self:skip_ws()
      if self:peek() ~= '"' then self:fail("member name") end
      local k = self:read_string()
      self:skip_ws()
      if self:peek() ~= ":" then self:fail("':'") end
      self.pos = self.pos + 1
      local v = self:read_value()
      obj[k] = v
      self:skip_ws()
      local sep = self:peek()
      self.pos = self.pos + 1
    until sep ~= ","
    if self.input:sub(self.pos - 1, self.pos - 1) ~= "}" then self:fail("'}'") end
    return obj
  elseif c == "[" then
    self.pos = self.pos + 1
    local arr = {__array = true, n = 0}
    self:skip_ws()
    if self:peek() == "]" then self.pos = self.pos + 1; return arr end
    repeat
      arr.n = arr.n + 1
      arr[arr.n] = self:read_value()
      self:skip_ws()
      local sep = self:peek()
      self.pos = self.pos + 1
    until sep ~= ","
    if self.input:sub(self.pos - 1, self.pos - 1) ~= "]" then self:fail("']'") end
    return arr
  elseif c == '"' then
    return self:read_string()
  elseif c == "t" and self.input:sub(self.pos, self.pos + 3) == "true" then
    self.pos = self.pos + 4; return true
  elseif c == "f" and self.input:sub(self.pos, self.pos + 4) == "false" then
    self.pos = self.pos + 5; return false
  elseif c == "n" and self.input:sub(self.pos, self.pos + 3) == "null" then
    self.pos = self.pos + 4; return NULL
  else
    local s, e = self.input:find("^-?%d+%.?%d*[eE]?[-+]?%d*", self.pos)
    if not s then self:fail("value") end
    self.pos = e + 1
    return tonumber(self.input:sub(s, e))
  end
end

local function decode(s)
  local p = Parser.new(s)
  local v = p:read_value()
  p:skip_ws()
  if p.pos <= #s then p:fail("end of input") end
  return v
end

-- Builds a deterministic document: records with nested arrays, escapes and numbers.
local function make_document(random, count)
  local records = {__array = true, n = 0}
  for i = 1, count do
    local tags = {__array = true, n = 0}
    for j = 1, random:next() % 5 do tags.n = tags.n + 1; tags[j] = "tag" .. (random:next() % 100) end
    records.n = records.n + 1
    records[i] = {
      id = i, name = "item \"" .. i .. "\"\n\ttabbed", price = (random:next() % 10000) / 100,
      ratio = random:next() / 65536, active = random:next() % 2 == 0, tags = tags,
      nested = {depth = {level = {value = i * 3, list = {__array = true, n = 3, 1, 2.5, -7}}}},
    }
  end
  return {version = "1.0", count = count, records = records, empty = {__array = true, n = 0}}
end

local function sum_numbers(v)
  if type(v) == "number" then return v end
  if type(v) ~= "table" then return 0 end
  local s = 0
  for k, x in pairs(v) do if k ~= "n" then s = s + sum_numbers(x) end end
  return s
end

local doc = make_document(som.Random.new(), 200)
local text = encode(doc)
local result
harness.run("json", n, function()
  local parsed = decode(text)
  local again = encode(parsed)
  if again ~= text then error("json: round trip changed the document") end
  result = #again
  return result
end)
io.write(string.format("sum of numbers %.6f\n", sum_numbers(decode(text))))
io.write(text:sub(1, 120), "\n")
