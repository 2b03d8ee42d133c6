//! Trap codes shared by every engine, with the exact messages of docs/reference/execution.md.

use core::ffi::CStr;

/// Why execution stopped abnormally. The discriminants are the codes passed across the C ABI
/// (for example to the AOT trap handler), so they must not change.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrapCode {
    IntegerDivideByZero = 1,
    IntegerOverflow = 2,
    OutOfBounds = 3,
    StackOverflow = 4,
    Unreachable = 5,
    IndirectCallTypeMismatch = 6,
    InvalidFunctionHandle = 7,
    /// Not a program error: the host asked a running program to stop.
    Interrupted = 8,
}

impl TrapCode {
    /// Every code, in numeric order.
    pub const ALL: [TrapCode; 8] = [
        TrapCode::IntegerDivideByZero,
        TrapCode::IntegerOverflow,
        TrapCode::OutOfBounds,
        TrapCode::StackOverflow,
        TrapCode::Unreachable,
        TrapCode::IndirectCallTypeMismatch,
        TrapCode::InvalidFunctionHandle,
        TrapCode::Interrupted,
    ];

    /// The message printed after `error: trap: `.
    pub const fn message(self) -> &'static str {
        match self {
            TrapCode::IntegerDivideByZero => "integer divide by zero",
            TrapCode::IntegerOverflow => "integer overflow",
            TrapCode::OutOfBounds => "out of bounds memory access",
            TrapCode::StackOverflow => "stack overflow",
            TrapCode::Unreachable => "unreachable",
            TrapCode::IndirectCallTypeMismatch => "indirect call type mismatch",
            TrapCode::InvalidFunctionHandle => "invalid function handle",
            TrapCode::Interrupted => "interrupted",
        }
    }

    /// The same message NUL-terminated, for C trap handlers (`void (*)(int, const char *)`).
    pub const fn c_message(self) -> &'static CStr {
        match self {
            TrapCode::IntegerDivideByZero => c"integer divide by zero",
            TrapCode::IntegerOverflow => c"integer overflow",
            TrapCode::OutOfBounds => c"out of bounds memory access",
            TrapCode::StackOverflow => c"stack overflow",
            TrapCode::Unreachable => c"unreachable",
            TrapCode::IndirectCallTypeMismatch => c"indirect call type mismatch",
            TrapCode::InvalidFunctionHandle => c"invalid function handle",
            TrapCode::Interrupted => c"interrupted",
        }
    }

    /// The numeric code.
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// The trap with this numeric code, if any.
    pub const fn from_u32(code: u32) -> Option<TrapCode> {
        match code {
            1 => Some(TrapCode::IntegerDivideByZero),
            2 => Some(TrapCode::IntegerOverflow),
            3 => Some(TrapCode::OutOfBounds),
            4 => Some(TrapCode::StackOverflow),
            5 => Some(TrapCode::Unreachable),
            6 => Some(TrapCode::IndirectCallTypeMismatch),
            7 => Some(TrapCode::InvalidFunctionHandle),
            8 => Some(TrapCode::Interrupted),
            _ => None,
        }
    }
}

impl core::fmt::Display for TrapCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message())
    }
}

/// C ABI: the NUL-terminated message for a trap code, or null for an unknown code.
#[unsafe(no_mangle)]
pub extern "C" fn vsp_trap_message(code: u32) -> *const core::ffi::c_char {
    match TrapCode::from_u32(code) {
        Some(t) => t.c_message().as_ptr(),
        None => core::ptr::null(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn messages_match_the_spec() {
        let want = [
            "integer divide by zero",
            "integer overflow",
            "out of bounds memory access",
            "stack overflow",
            "unreachable",
            "indirect call type mismatch",
            "invalid function handle",
            "interrupted",
        ];
        for (t, w) in TrapCode::ALL.iter().zip(want) {
            assert_eq!(t.message(), w);
            assert_eq!(t.to_string(), w);
            assert_eq!(t.c_message().to_str().unwrap(), w);
            // SAFETY: vsp_trap_message returns a pointer into a static NUL-terminated string.
            let c = unsafe { CStr::from_ptr(vsp_trap_message(t.code())) };
            assert_eq!(c.to_str().unwrap(), w);
        }
    }

    #[test]
    fn codes_round_trip() {
        for (i, t) in TrapCode::ALL.iter().enumerate() {
            assert_eq!(t.code(), i as u32 + 1);
            assert_eq!(TrapCode::from_u32(t.code()), Some(*t));
        }
        assert_eq!(TrapCode::from_u32(0), None);
        assert_eq!(TrapCode::from_u32(9), None);
        assert_eq!(TrapCode::from_u32(u32::MAX), None);
        assert!(vsp_trap_message(0).is_null());
    }
}
