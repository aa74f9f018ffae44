-- Runs a benchmark function a number of times and prints a deterministic summary.
-- Timing is the job of bench/run_lua_benchmarks, never of the program itself.
local harness = {}

function harness.size(default)
  local n = tonumber(arg and arg[1])
  return n or default
end

function harness.run(name, iterations, body, verify)
  local result
  for _ = 1, iterations do
    result = body()
    if verify and not verify(result) then
      error(name .. ": benchmark failed with incorrect result " .. tostring(result))
    end
  end
  print(name .. ": " .. tostring(result))
  return result
end

return harness
