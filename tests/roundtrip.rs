//! Every conformance program survives text → binary → text: decoding gives back exactly the
//! module that was encoded (names and lines included), encoding is deterministic, and the printed
//! text parses back to the same module (up to source positions, which printing renumbers).

mod common;
use bytecode::{Loc, Module, decode, encode, parse, print};

fn without_locs(mut m: Module) -> Module {
    m.memory.loc = Loc::NONE;
    m.data.iter_mut().for_each(|d| d.loc = Loc::NONE);
    m.externs.iter_mut().for_each(|e| e.loc = Loc::NONE);
    for f in &mut m.funcs {
        f.loc = Loc::NONE;
        f.regs.iter_mut().for_each(|r| r.loc = Loc::NONE);
        f.labels.iter_mut().for_each(|l| l.loc = Loc::NONE);
        f.body.iter_mut().for_each(|i| i.loc = Loc::NONE);
    }
    m
}

#[test]
fn text_binary_text() {
    let mut checked = 0;
    for file in common::programs()
        .into_iter()
        .chain(common::sil_files("../examples"))
    {
        let src = std::fs::read_to_string(&file).unwrap();
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let Ok(m) = parse(&src, &stem) else { continue };
        let bytes = encode(&m);
        assert_eq!(
            bytes,
            encode(&m),
            "{}: encoding is not deterministic",
            file.display()
        );
        let back = decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(
            back,
            m,
            "{}: binary round trip changed the module",
            file.display()
        );
        let text = print(&back);
        let again = parse(&text, &stem).unwrap_or_else(|e| {
            panic!("{}:\n{}", file.display(), e.render("printed", Some(&text)))
        });
        assert_eq!(
            without_locs(again),
            without_locs(m),
            "{}: text round trip changed the module",
            file.display()
        );
        checked += 1;
    }
    assert!(checked >= 80, "only {checked} programs checked");
}
