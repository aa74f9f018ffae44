local cases = {
  "x = ",
  "local 1 = 2",
  "if x then",
  "for i = 1 do end",
  "return return",
  "x = }",
  "f(",
  "local t = {1, 2",
  "x = 'unfinished",
  "x = [[never closed",
  "break",
  "local function f() return ... end",
  "a.b:c = 1",
  "x = 1 1",
  "goto = 1",
}
for _, src in ipairs(cases) do
  local f, err = loadstring(src, "=src")
  print(type(f), err)
end
