-- A C++ exception (not a Lua error) thrown by a native called from three
-- compiled functions must unwind through their frames to pcall's handler;
-- backtrace(3) from inside compiled code must walk through them too.
local function c() return vmtest.throw_cpp() end
local function b() local r = c() return r end
local function a() local r = b() return r end
print(pcall(a))
local function bt3() local t = vmtest.backtrace() return t end
local function bt2() local t = bt3() return t end
local function bt1() local t = bt2() return t end
for _, name in ipairs(bt1()) do print(name) end
