//! C-ABI runtime helpers shared by every engine: ByteSil math, number formatting, buffered output, traps.
