local Animal = {}
Animal.__index = Animal
function Animal.new(name, sound)
  local self = setmetatable({}, Animal)
  self.name, self.sound = name, sound
  return self
end
function Animal:speak() return self.name .. " says " .. self.sound end
function Animal:kind() return "animal" end
local Dog = setmetatable({}, {__index = Animal})
Dog.__index = Dog
function Dog.new(name)
  local self = Animal.new(name, "woof")
  return setmetatable(self, Dog)
end
function Dog:kind() return "dog, a kind of " .. Animal.kind(self) end
local Puppy = setmetatable({}, {__index = Dog})
Puppy.__index = Puppy
function Puppy.new(name) return setmetatable(Dog.new(name), Puppy) end
function Puppy:speak() return Dog.speak(self) .. " (softly)" end
local a, d, p = Animal.new("cat", "meow"), Dog.new("rex"), Puppy.new("bit")
print(a:speak(), a:kind())
print(d:speak(), d:kind())
print(p:speak(), p:kind())
print(getmetatable(p) == Puppy, rawget(Puppy, "kind"))
