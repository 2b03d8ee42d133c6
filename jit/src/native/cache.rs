//! The persistent code cache: compiled functions on disk, one file per function, keyed by
//! everything that changes the machine code, and never trusted without checking.
//!
//! Cranelift computes the key (`compute_cache_key`: a SHA-256 of the function's IR, the target
//! triple and every ISA flag, CPU features included) and serializes the compiled code with its
//! relocations against *names*, so a hit is re-linked to the current module's functions. The IR
//! holds everything codegen decided from the bytecode and options (interrupt polls, lines for
//! backtraces, optimisation level through the ISA flags), so a changed function, a changed
//! callee signature or another option is another key. On top of that each file carries its own
//! header: a magic, the file format, the vsp version, the target, the full key, the payload
//! length and a checksum. Anything that does not match exactly (a truncated or corrupted file, a
//! file of another vsp or target, a torn write) is a miss: the function is compiled and the file
//! replaced. Files are written under a temporary name and renamed into place, so a reader sees a
//! whole file or none, even with several processes writing at once.

use cranelift_codegen::incremental_cache::CacheKvStore;
use std::borrow::Cow;
use std::cell::Cell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const MAGIC: &[u8; 8] = b"VSPCODE\0";
/// Bumped when the file layout changes.
const FORMAT: u32 = 1;
const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Default size limit of a cache directory.
pub const DEFAULT_MAX_BYTES: u64 = 256 << 20;
/// File name suffix of a cache entry.
const SUFFIX: &str = "vspc";

/// What the cache did, for `--stats`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Functions whose code was loaded from the cache.
    pub hits: u64,
    /// Functions compiled because the cache had no usable entry.
    pub misses: u64,
    /// Entries found but refused (corrupted, truncated, another version or target).
    pub rejected: u64,
    /// Entries written.
    pub stored: u64,
    /// Entries removed to stay under the size limit.
    pub evicted: u64,
    /// Time spent reading and checking entries.
    pub load_time: Duration,
}

/// A cache directory.
pub(crate) struct CodeCache {
    dir: PathBuf,
    max_bytes: u64,
    /// Target triple and CPU flags, as part of every header.
    target: String,
    /// A `Cell`: `get` has only `&self`. The cache is used by one thread at a time (it lives
    /// inside the native code, behind its mutex).
    stats: Cell<CacheStats>,
    /// Bytes written since the directory's size was last checked.
    written_since_evict: u64,
}

/// Where the cache lives when no directory is given: `$XDG_CACHE_HOME/vsp`, else
/// `$HOME/.cache/vsp`.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x).join("vsp"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".cache").join("vsp"))
}

/// FNV-1a, 64-bit: the checksum of a payload (detects corruption, not tampering: the cache
/// directory is the user's own, like the binary itself).
fn checksum(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl CodeCache {
    /// Opens (creating it if needed) the cache in `dir` for code of `target` (triple and CPU
    /// flags).
    pub fn open(dir: &Path, max_bytes: u64, target: String) -> std::io::Result<CodeCache> {
        std::fs::create_dir_all(dir)?;
        Ok(CodeCache {
            dir: dir.to_path_buf(),
            max_bytes,
            target,
            stats: Cell::new(CacheStats::default()),
            written_since_evict: 0,
        })
    }

    fn path_of(&self, key: &[u8]) -> PathBuf {
        self.dir.join(format!("{}.{SUFFIX}", hex(key)))
    }

    fn header(&self, key: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut h = Vec::with_capacity(64 + key.len());
        h.extend_from_slice(MAGIC);
        h.extend_from_slice(&FORMAT.to_le_bytes());
        for field in [VERSION.as_bytes(), self.target.as_bytes(), key] {
            h.extend_from_slice(&(field.len() as u32).to_le_bytes());
            h.extend_from_slice(field);
        }
        h.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        h.extend_from_slice(&checksum(payload).to_le_bytes());
        h
    }

    /// The payload of an entry file, if every header field matches and the payload is whole.
    fn check<'a>(&self, key: &[u8], file: &'a [u8]) -> Option<&'a [u8]> {
        let mut rest = file.strip_prefix(MAGIC.as_slice())?;
        let mut take = |n: usize| -> Option<&'a [u8]> {
            let (a, b) = rest.split_at_checked(n)?;
            rest = b;
            Some(a)
        };
        if take(4)? != FORMAT.to_le_bytes() {
            return None;
        }
        for want in [VERSION.as_bytes(), self.target.as_bytes(), key] {
            let n = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
            if take(n)? != want {
                return None;
            }
        }
        let len = u64::from_le_bytes(take(8)?.try_into().ok()?);
        let sum = u64::from_le_bytes(take(8)?.try_into().ok()?);
        let payload = take(usize::try_from(len).ok()?)?;
        (rest.is_empty() && checksum(payload) == sum).then_some(payload)
    }

    /// Removes the oldest entries (by modification time) until the directory is under its limit.
    fn evict(&mut self) {
        let Ok(dir) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut entries: Vec<(std::time::SystemTime, u64, PathBuf)> = dir
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == SUFFIX))
            .filter_map(|e| {
                let m = e.metadata().ok()?;
                Some((m.modified().ok()?, m.len(), e.path()))
            })
            .collect();
        let mut total: u64 = entries.iter().map(|e| e.1).sum();
        if total <= self.max_bytes {
            return;
        }
        entries.sort();
        for (_, len, path) in entries {
            if total <= self.max_bytes {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total -= len;
                self.update(|s| s.evicted += 1);
            }
        }
    }
}

impl CacheKvStore for CodeCache {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        let start = Instant::now();
        let file = std::fs::read(self.path_of(key)).ok();
        let payload = file
            .as_deref()
            .and_then(|f| self.check(key, f))
            .map(|p| p.to_vec());
        self.update(|s| {
            s.load_time += start.elapsed();
            s.rejected += u64::from(file.is_some() && payload.is_none());
        });
        payload.map(Cow::Owned)
    }

    fn insert(&mut self, key: &[u8], val: Vec<u8>) {
        let path = self.path_of(key);
        let mut bytes = self.header(key, &val);
        bytes.extend_from_slice(&val);
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let tmp = self.dir.join(format!(
            ".tmp-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let written = std::fs::File::create(&tmp)
            .and_then(|mut f| f.write_all(&bytes))
            .and_then(|()| std::fs::rename(&tmp, &path));
        match written {
            Ok(()) => {
                self.update(|s| s.stored += 1);
                self.written_since_evict += bytes.len() as u64;
                // Checking the directory's size costs a directory listing: do it once per
                // eighth of the limit written.
                if self.written_since_evict > self.max_bytes / 8 {
                    self.written_since_evict = 0;
                    self.evict();
                }
            }
            // A full or read-only disk costs the next run a compile, nothing more.
            Err(_) => {
                let _ = std::fs::remove_file(&tmp);
            }
        }
    }
}

impl CodeCache {
    fn update(&self, f: impl FnOnce(&mut CacheStats)) {
        let mut s = self.stats.get();
        f(&mut s);
        self.stats.set(s);
    }

    pub fn stats(&self) -> CacheStats {
        self.stats.get()
    }

    /// Counts the outcome of one lookup (`compile_with_cache` says whether it hit).
    pub fn count(&self, hit: bool) {
        self.update(|s| if hit { s.hits += 1 } else { s.misses += 1 });
    }
}

/// `vsp cache stats`: entries and bytes in a cache directory.
pub fn dir_usage(dir: &Path) -> std::io::Result<(u64, u64)> {
    let mut n = 0;
    let mut bytes = 0;
    for e in std::fs::read_dir(dir)?.flatten() {
        if e.path().extension().is_some_and(|x| x == SUFFIX)
            && let Ok(m) = e.metadata()
        {
            n += 1;
            bytes += m.len();
        }
    }
    Ok((n, bytes))
}

/// `vsp cache clear`: removes every entry (and stray temporary files); returns how many.
pub fn clear_dir(dir: &Path) -> std::io::Result<u64> {
    let mut n = 0;
    for e in std::fs::read_dir(dir)?.flatten() {
        let p = e.path();
        let ours = p.extension().is_some_and(|x| x == SUFFIX)
            || p.file_name()
                .and_then(|f| f.to_str())
                .is_some_and(|f| f.starts_with(".tmp-"));
        if ours && std::fs::remove_file(&p).is_ok() {
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(dir: &Path) -> CodeCache {
        CodeCache::open(dir, DEFAULT_MAX_BYTES, "x86_64 test".into()).unwrap()
    }

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("vsp-cache-unit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn an_entry_reads_back_and_every_damage_is_a_miss() {
        let dir = tmpdir("damage");
        let mut c = cache(&dir);
        let key = [7u8; 32];
        c.insert(&key, b"machine code".to_vec());
        assert_eq!(c.get(&key).as_deref(), Some(&b"machine code"[..]));
        let path = c.path_of(&key);
        let good = std::fs::read(&path).unwrap();
        // Truncated anywhere, one byte flipped anywhere, a byte added: refused.
        for cut in 0..good.len() {
            std::fs::write(&path, &good[..cut]).unwrap();
            assert!(c.get(&key).is_none(), "truncated at {cut}");
        }
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x40;
            std::fs::write(&path, &bad).unwrap();
            assert!(c.get(&key).is_none(), "byte {i} flipped");
        }
        let mut long = good.clone();
        long.push(0);
        std::fs::write(&path, &long).unwrap();
        assert!(c.get(&key).is_none());
        // Another target or version reading the same file: refused.
        std::fs::write(&path, &good).unwrap();
        let other = CodeCache::open(&dir, DEFAULT_MAX_BYTES, "aarch64 test".into()).unwrap();
        assert!(other.get(&key).is_none());
        assert!(c.stats().rejected > good.len() as u64);
        // Replaced by a new insert.
        c.insert(&key, b"new code".to_vec());
        assert_eq!(c.get(&key).as_deref(), Some(&b"new code"[..]));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_directory_stays_under_its_limit() {
        let dir = tmpdir("evict");
        let mut c = CodeCache::open(&dir, 64 << 10, "t".into()).unwrap();
        for k in 0..200u8 {
            c.insert(&[k; 32], vec![k; 4096]);
        }
        let (n, bytes) = dir_usage(&dir).unwrap();
        assert!(bytes <= 64 << 10, "{bytes}");
        assert!(n > 0 && c.stats().evicted > 0);
        assert_eq!(clear_dir(&dir).unwrap(), n);
        assert_eq!(dir_usage(&dir).unwrap(), (0, 0));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
