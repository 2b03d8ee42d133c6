-- fib: naive doubly recursive Fibonacci. Measures call/return overhead.
-- usage: lua fib.lua N      (prints fib(N)); runs on Lua 5.4 and LuaJIT
local n = math.floor(assert(tonumber(arg[1]), "usage: fib.lua N"))

local function fib(n)
  if n < 2 then return n end
  return fib(n - 1) + fib(n - 2)
end

-- %d prints the same text whether the result is a Lua 5.4 integer or a LuaJIT double
print(string.format("%d", fib(n)))
