-- Chunks loaded from Lua strings, each published with its source text. Two
-- loads share one string; one chunk is
-- collected while its string lives on (a constant of this chunk), and one
-- dies together with its string; then the VM stops for the reader.
local code = "local function twice(x)\n  return x * 2\nend\nreturn twice(21)\n"
local kept1 = assert(loadstring(code, "=shared_code"))
local kept2 = assert(loadstring(code, "=shared_code_again"))
local gone = assert(loadstring("return 'collected chunk'", "=gone_chunk"))
assert(gone() == "collected chunk")
gone = nil
local built = assert(loadstring("return " .. string.rep("1 + ", 50) .. "1", "=dies_with_text"))
assert(built() == 51)
built = nil
collectgarbage()
collectgarbage()
assert(kept1() == 42 and kept2() == 42)
vmtest.stop_here()
print(kept1(), kept2())
