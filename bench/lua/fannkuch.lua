-- fannkuch: the Computer Language Benchmarks Game fannkuch-redux. For every permutation
-- of 0..N-1, in the benchmark's order, counts the flips of the first k+1 elements (k the
-- first element) until 0 comes first; prints the checksum (flips added for even-numbered
-- permutations, subtracted for odd ones) and the largest number of flips, as the
-- benchmark does ("CHECKSUM\nPfannkuchen(N) = MAXFLIPS"). The whole computation is done
-- K times from scratch, as in the C and .sil versions. Arrays are indexed from 0 as in C;
-- every value is a small integer, exact in LuaJIT's doubles too.
-- usage: lua fannkuch.lua N K     (1 <= N <= 16)
local n = math.floor(assert(tonumber(arg[1]), "usage: fannkuch.lua N K"))
local reps = math.floor(assert(tonumber(arg[2]), "usage: fannkuch.lua N K"))
if n < 1 or n > 16 then
  io.stderr:write("fannkuch: N must be 1..16\n")
  os.exit(2)
end

local perm, perm1, count = {}, {}, {}
for i = 0, 15 do perm[i] = 0; perm1[i] = 0; count[i] = 0 end
local maxflips, checksum = 0, 0
for _ = 1, reps do
  maxflips, checksum = 0, 0
  local permcount = 0
  for i = 0, n - 1 do perm1[i] = i end
  local r = n
  while true do
    while r ~= 1 do
      count[r - 1] = r
      r = r - 1
    end
    for i = 0, n - 1 do perm[i] = perm1[i] end
    -- flip the first k+1 elements until the first one is 0
    local flips = 0
    local k = perm[0]
    while k ~= 0 do
      local i, j = 0, k
      while i < j do
        perm[i], perm[j] = perm[j], perm[i]
        i = i + 1
        j = j - 1
      end
      flips = flips + 1
      k = perm[0]
    end
    if flips > maxflips then maxflips = flips end
    if permcount % 2 == 0 then checksum = checksum + flips else checksum = checksum - flips end
    -- the next permutation: rotate the first r+1 elements left by one, for the smallest
    -- r whose counter does not run out; after the last one, r = n
    local done = false
    while true do
      if r == n then done = true; break end
      local p0 = perm1[0]
      for i = 0, r - 1 do perm1[i] = perm1[i + 1] end
      perm1[r] = p0
      count[r] = count[r] - 1
      if count[r] > 0 then break end
      r = r + 1
    end
    if done then break end
    permcount = permcount + 1
  end
end
print(string.format("%d\nPfannkuchen(%d) = %d", checksum, n, maxflips))
