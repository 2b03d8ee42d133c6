//! The persistent code cache: hits and misses, identical behaviour from cached code, keys that
//! change with the options, and every kind of damaged entry detected and replaced.

use jit::{CallError, Config, EngineKind, Instance, Linker, Trap, Value};
use std::path::{Path, PathBuf};

const PROG: &str = r#"
memory 1
func fib(n: i64) -> i64 {
    reg a: i64, b: i64
    blt n, 2, small
    sub a, n, 1
    call a, fib(a)
    sub b, n, 2
    call b, fib(b)
    add a, a, b
    ret a
small:
    ret n
}
func bad(x: i64) -> i64 {
    reg r: i64
    div r, 10, x
    ret r
}
func outer(x: i64) -> i64 {
    reg r: i64
    call r, bad(x)
    store.i64 [8], r
    println r
    ret r
}
func spin() -> i64 {
    reg i: i64
loop:
    add i, i, 1
    jmp loop
}
"#;

fn dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cache-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn config(dir: &Path) -> Config {
    Config::new().capture_output().cache_dir(dir)
}

fn load(config: Config) -> Instance {
    Instance::from_text(config, PROG, "cached", Linker::new()).unwrap()
}

/// Calls fib(20) and outer(0) (a trap with a backtrace) and outer(5); returns what they gave.
fn exercise(inst: &mut Instance) -> (Option<Value>, Trap, Option<Value>, Vec<u8>) {
    let fib = inst.call("fib", &[Value::I64(20)]).unwrap();
    let trap = match inst.call("outer", &[Value::I64(0)]) {
        Err(CallError::Trap(t)) => t,
        other => panic!("expected a trap, got {other:?}"),
    };
    let ok = inst.call("outer", &[Value::I64(5)]).unwrap();
    (fib, trap, ok, inst.take_output())
}

fn compiled(inst: &Instance) -> usize {
    inst.stats()
        .functions
        .iter()
        .filter(|f| f.compiles > 0)
        .count()
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "vspc"))
        .collect();
    v.sort();
    v
}

#[test]
fn a_second_instance_compiles_nothing_and_behaves_the_same() {
    let mut uncached = Instance::from_text(
        Config::new().capture_output(),
        PROG,
        "cached",
        Linker::new(),
    )
    .unwrap();
    let want = exercise(&mut uncached);
    // Tiered code checks direct calls for missing callees, so it is other code, with keys
    // of its own: each engine is checked against a first instance of the same engine.
    for engine in [EngineKind::Jit, EngineKind::Tiered] {
        let d = dir(&format!("hits-{engine:?}"));
        let cfg = || {
            config(&d)
                .engine(engine)
                .tier_thresholds(1, 1)
                .tier_synchronous(true)
        };
        let mut first = load(cfg());
        assert_eq!(exercise(&mut first), want, "{engine:?}");
        let s = first.stats().cache.unwrap();
        assert!(s.misses > 0 && s.stored > 0, "{engine:?}: {s:?}");
        assert_eq!(compiled(&first), 3, "{engine:?}");
        let mut second = load(cfg());
        assert_eq!(exercise(&mut second), want, "{engine:?}");
        let s = second.stats().cache.unwrap();
        assert_eq!(s.misses, 0, "{engine:?}: {s:?}");
        assert_eq!(compiled(&second), 0, "{engine:?}");
        let loaded = second
            .stats()
            .functions
            .iter()
            .filter(|f| f.cache_loads > 0)
            .count();
        assert_eq!(loaded, 3, "{engine:?}");
    }
}

#[test]
fn options_that_change_the_code_change_the_key() {
    let d = dir("options");
    exercise(&mut load(config(&d)));
    for (what, cfg) in [
        ("-O0", config(&d).opt_level(0)),
        ("interrupt polls", config(&d).interruptible(true)),
    ] {
        let mut inst = load(cfg);
        exercise(&mut inst);
        let s = inst.stats().cache.unwrap();
        assert!(s.misses > 0, "{what}: {s:?}");
    }
    // An interruptible function loaded from the cache still polls: the second instance's
    // `spin` comes from the first one's entry.
    for round in 0..2 {
        let mut inst = load(config(&d).interruptible(true));
        let h = inst.interrupt_handle();
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            h.interrupt();
        });
        assert!(matches!(inst.call("spin", &[]), Err(CallError::Trap(_))));
        t.join().unwrap();
        let s = inst.stats().cache.unwrap();
        assert_eq!(s.misses == 0, round == 1, "round {round}: {s:?}");
    }
}

#[test]
fn every_kind_of_damaged_entry_is_detected_and_replaced() {
    let want = exercise(&mut load(Config::new().capture_output()));
    type Damage = fn(&mut Vec<u8>);
    let damages: [(&str, Damage); 6] = [
        ("truncated", |b| b.truncate(b.len() / 2)),
        ("empty", |b| b.clear()),
        ("a flipped byte", |b| {
            let i = b.len() - 3;
            b[i] ^= 0x10
        }),
        ("another vsp version", |b| {
            // The version string follows the magic (8 bytes), the format (4) and its length (4).
            b[16] = b'9'
        }),
        ("another target", |b| {
            let v = u32::from_le_bytes(b[12..16].try_into().unwrap()) as usize;
            let t = 16 + v + 4;
            b[t] ^= 0x20
        }),
        ("a torn write (payload cut, header intact)", |b| {
            b.truncate(b.len() - 1)
        }),
    ];
    for (what, damage) in damages {
        let d = dir("damage");
        exercise(&mut load(config(&d)));
        let entries = files(&d);
        assert!(!entries.is_empty());
        for f in &entries {
            let mut bytes = std::fs::read(f).unwrap();
            damage(&mut bytes);
            std::fs::write(f, bytes).unwrap();
        }
        let mut inst = load(config(&d));
        assert_eq!(exercise(&mut inst), want, "{what}");
        let s = inst.stats().cache.unwrap();
        // Each damaged file is read once, refused and rewritten (a later function with the
        // same code may then hit the fresh entry).
        assert_eq!(s.rejected, entries.len() as u64, "{what}: {s:?}");
        assert_eq!(s.stored, entries.len() as u64, "{what}: {s:?}");
        // Replaced: the next instance hits every entry again.
        let mut again = load(config(&d));
        assert_eq!(exercise(&mut again), want, "{what}");
        assert_eq!(again.stats().cache.unwrap().misses, 0, "{what}");
    }
}

#[test]
fn instances_writing_the_same_cache_at_once_leave_it_whole() {
    let d = dir("concurrent");
    let want = exercise(&mut load(Config::new().capture_output()));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let d = d.clone();
            std::thread::spawn(move || exercise(&mut load(config(&d))))
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), want);
    }
    let mut last = load(config(&d));
    assert_eq!(exercise(&mut last), want);
    assert_eq!(last.stats().cache.unwrap().misses, 0);
    let stray: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".tmp")
        })
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
}

#[test]
fn a_redefinition_back_to_an_earlier_body_is_a_hit() {
    let d = dir("redefine");
    let mut inst = load(config(&d));
    let body = |k: i64| format!("func bad(x: i64) -> i64 {{\n    add x, x, {k}\n    ret x\n}}\n");
    inst.define(&body(1)).unwrap();
    assert_eq!(
        inst.call("outer", &[Value::I64(1)]).unwrap(),
        Some(Value::I64(2))
    );
    inst.define(&body(2)).unwrap();
    assert_eq!(
        inst.call("outer", &[Value::I64(1)]).unwrap(),
        Some(Value::I64(3))
    );
    let before = inst.stats().cache.unwrap();
    inst.define(&body(1)).unwrap();
    assert_eq!(
        inst.call("outer", &[Value::I64(1)]).unwrap(),
        Some(Value::I64(2))
    );
    let after = inst.stats().cache.unwrap();
    assert_eq!(after.misses, before.misses, "{before:?} -> {after:?}");
    assert!(after.hits > before.hits);
}

#[test]
fn a_cache_directory_that_cannot_be_made_is_a_load_error() {
    let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cache-not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let e = Instance::from_text(config(&file.join("sub")), PROG, "c", Linker::new()).unwrap_err();
    assert!(e.to_string().contains("cannot use the code cache"), "{e}");
}
