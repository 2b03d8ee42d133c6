-- spectralnorm: the Computer Language Benchmarks Game spectral-norm. Approximates the
-- spectral norm of the infinite matrix A (a_ij = 1 / ((i+j)(i+j+1)/2 + i + 1)) by 10
-- rounds of the power method on A^T A, restricted to N x N; prints it with 9 decimals.
-- The f64 operations are those of the C and .sil versions, in the same order, so the
-- results agree bit for bit. Indices run from 0 as in C, so a_ij is the same formula.
-- usage: lua spectralnorm.lua N
local n = math.floor(assert(tonumber(arg[1]), "usage: spectralnorm.lua N"))

-- a_ij is written inline, as the C compiler inlines its eval_a and the .sil version
-- computes it in the loop: a Lua call per matrix element would measure calls instead.
-- (i+j)(i+j+1) is even and below 2^53, so `/ 2` is exact in doubles and in Lua 5.4
-- (where it gives a float); the sum then equals C's integer before its conversion.

-- av = A v
local function mul_av(v, av)
  for i = 0, n - 1 do
    local sum = 0.0
    for j = 0, n - 1 do
      local ij = i + j
      sum = sum + 1.0 / (ij * (ij + 1) / 2 + i + 1) * v[j]
    end
    av[i] = sum
  end
end

-- atv = A^T v
local function mul_atv(v, atv)
  for i = 0, n - 1 do
    local sum = 0.0
    for j = 0, n - 1 do
      local ij = j + i
      sum = sum + 1.0 / (ij * (ij + 1) / 2 + j + 1) * v[j]
    end
    atv[i] = sum
  end
end

-- atav = A^T A v, through tmp
local function mul_atav(v, atav, tmp)
  mul_av(v, tmp)
  mul_atv(tmp, atav)
end

local u, v, tmp = {}, {}, {}
for i = 0, n - 1 do u[i] = 1.0; v[i] = 0.0; tmp[i] = 0.0 end
for _ = 1, 10 do
  mul_atav(u, v, tmp)
  mul_atav(v, u, tmp)
end
local vbv, vv = 0.0, 0.0
for i = 0, n - 1 do
  vbv = vbv + u[i] * v[i]
  vv = vv + v[i] * v[i]
end
print(string.format("%.9f", math.sqrt(vbv / vv)))
