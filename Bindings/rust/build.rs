//! Links libspecdec.so.
//!
//! The directory is, in this order:
//! 1. `$SPECDEC_LIB_DIR` when set;
//! 2. the `libdir` of pkg-config's `specdec` package when pkg-config knows it (an
//!    installed copy: `scripts/install.sh PREFIX` writes `PREFIX/lib/pkgconfig/specdec.pc`,
//!    found through `PKG_CONFIG_PATH`);
//! 3. `../../dist/lib` relative to this crate (the repository's `scripts/build.sh`
//!    output).
//!
//! An rpath to it is added to this crate's own binaries, tests and examples so they run
//! without LD_LIBRARY_PATH, and the directory is exported to dependent crates as
//! `DEP_SPECDEC_LIB_DIR` (rustc-link-arg does not propagate, so a dependent binary sets
//! its own rpath from it).

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    for var in [
        "SPECDEC_LIB_DIR",
        "PKG_CONFIG",
        "PKG_CONFIG_PATH",
        "PKG_CONFIG_LIBDIR",
        "PKG_CONFIG_SYSROOT_DIR",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }

    let (dir, source) = if let Some(dir) = env_dir("SPECDEC_LIB_DIR") {
        (dir, "SPECDEC_LIB_DIR")
    } else if let Some(dir) = pkg_config_libdir() {
        (dir, "pkg-config")
    } else {
        (repository_dist_lib(), "the repository's dist/lib")
    };
    let dir = dir.canonicalize().unwrap_or(dir);
    let lib = dir.join("libspecdec.so");
    if !lib.exists() {
        println!(
            "cargo:warning=libspecdec.so not found in {} (from {source}; build it with \
             scripts/build.sh, install it with scripts/install.sh, or set SPECDEC_LIB_DIR)",
            dir.display()
        );
    }
    // Re-run when the library appears or is rebuilt.
    println!("cargo:rerun-if-changed={}", lib.display());

    println!("cargo:rustc-link-search=native={}", dir.display());
    println!("cargo:rustc-link-lib=dylib=specdec");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    println!("cargo:lib_dir={}", dir.display());
}

fn env_dir(var: &str) -> Option<PathBuf> {
    env::var_os(var)
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
}

/// `pkg-config --libs-only-L --variable=libdir specdec`, when pkg-config is installed
/// and knows `specdec`.
fn pkg_config_libdir() -> Option<PathBuf> {
    let pkg_config = env::var_os("PKG_CONFIG").unwrap_or_else(|| "pkg-config".into());
    let output = Command::new(pkg_config)
        .args(["--libs-only-L", "--variable=libdir", "specdec"])
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    // pkgconf prints the variable alone; other implementations may add the `-L` flags.
    let text = String::from_utf8(output.stdout).ok()?;
    let dirs: Vec<PathBuf> = text
        .split_whitespace()
        .map(|word| PathBuf::from(word.strip_prefix("-L").unwrap_or(word)))
        .filter(|dir| !dir.as_os_str().is_empty())
        .collect();
    dirs.iter()
        .find(|dir| dir.join("libspecdec.so").exists())
        .or(dirs.first())
        .cloned()
}

fn repository_dist_lib() -> PathBuf {
    PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("dist")
        .join("lib")
}
