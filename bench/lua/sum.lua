-- sum: a tight integer loop, s = sum over i in 0..n of ((i mod M)^2 mod M), M = 1000003.
-- Every intermediate stays below 2^53, so LuaJIT's doubles are exact and agree with
-- Lua 5.4's integers.
-- usage: lua sum.lua N
local n = math.floor(assert(tonumber(arg[1]), "usage: sum.lua N"))
local M = 1000003

local s = 0
for i = 0, n - 1 do
  local t = i % M
  s = s + t * t % M
end
print(string.format("%d", s))
