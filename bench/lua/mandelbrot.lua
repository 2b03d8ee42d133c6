-- mandelbrot: escape-time iteration over a W x W grid covering [-1.5, 0.5] x [-1, 1],
-- at most 50 iterations per point; prints the total number of iterations performed.
-- usage: lua mandelbrot.lua W
local w = math.floor(assert(tonumber(arg[1]), "usage: mandelbrot.lua W"))
local MAX_ITER = 50

local total = 0
for y = 0, w - 1 do
  local ci = 2.0 * y / w - 1.0
  for x = 0, w - 1 do
    local cr = 2.0 * x / w - 1.5
    local zr, zi = 0.0, 0.0
    local it = 0
    while it < MAX_ITER do
      local zr2, zi2 = zr * zr, zi * zi
      if zr2 + zi2 > 4.0 then break end
      zi = 2.0 * zr * zi + ci
      zr = zr2 - zi2 + cr
      it = it + 1
    end
    total = total + it
  end
end
print(string.format("%d", total))
