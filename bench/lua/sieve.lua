-- sieve: sieve of Eratosthenes over 0..=N, repeated K times from scratch; prints the
-- number of primes <= N.
-- usage: lua sieve.lua N K
local n = math.floor(assert(tonumber(arg[1]), "usage: sieve.lua N K"))
local k = math.floor(assert(tonumber(arg[2]), "usage: sieve.lua N K"))

local flags = {}
local count = 0
for _ = 1, k do
  for i = 2, n do flags[i] = true end
  local i = 2
  while i * i <= n do
    if flags[i] then
      for j = i * i, n, i do flags[j] = false end
    end
    i = i + 1
  end
  count = 0
  for i = 2, n do
    if flags[i] then count = count + 1 end
  end
end
print(string.format("%d", count))
