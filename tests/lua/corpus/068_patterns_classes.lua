local s = "aB3 _.\t\n!"
for _, c in ipairs({"%a", "%d", "%l", "%u", "%s", "%w", "%p", "%c", "%x", "%A", "%S", "."}) do
  local out = s:gsub(c, "#")
  print(c, (out:gsub("[\t\n]", "~")))
end
print(("0x1F zz"):match("%x+"), ("abc123"):match("[%a]+"), ("abc123"):match("[^%a]+"))
print(("a-b"):match("[a%-]+"), ("]x"):match("[]]"), ("a^b"):match("[%^b]+"))
print(("hello"):match("[a-h]+"), ("HELLO"):match("[^A-G]+"))
