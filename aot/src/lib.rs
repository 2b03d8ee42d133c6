//! Ahead-of-time backend: object files, C headers and native executables.
