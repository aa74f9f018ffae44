local samples = {"plain", "with \"quotes\"", "new\nline", "nul\0byte", "back\\slash", "\r\t\1\127\255"}
for _, s in ipairs(samples) do
  local q = string.format("%q", s)
  local back = loadstring("return " .. q)()
  print(#q, back == s)
end
