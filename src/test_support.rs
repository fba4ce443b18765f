//! What the unit tests share: a temporary directory that removes itself.
//! (The property loops' PRNG is in `test_rng`.)

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory under the system's temp dir, removed (with everything
/// in it) when dropped, even when the test fails.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("pidone-unit-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn removes_itself() {
    let d = TempDir::new("self");
    std::fs::create_dir(d.join("sub")).unwrap();
    std::fs::write(d.join("sub/f"), "x").unwrap();
    let path = d.path().to_path_buf();
    assert!(path.is_dir());
    drop(d);
    assert!(!path.exists());
}
