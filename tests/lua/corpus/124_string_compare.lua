local words = {"b", "a", "ab", "B", "", "aa", "a0", "a\0"}
table.sort(words)
for i, w in ipairs(words) do words[i] = string.format("%q", w) end
print(table.concat(words, " "))
print("abc" < "abd", "abc" < "ab", "" < "\0", "Z" < "a", "10" < "9")
print("a" <= "a", "b" >= "a", "a" > "b")
