local M = {}
M.loads = (M.loads or 0) + 1
function M.square(x) return x * x end
function M.cube(x) return x * x * x end
mathx_load_count = (mathx_load_count or 0) + 1
return M
