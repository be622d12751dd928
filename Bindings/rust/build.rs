//! Links libspecdec.so.
//!
//! The directory is $SPECDEC_LIB_DIR when set, else `../../dist/lib` relative to this
//! crate (the repository's `scripts/build.sh` output). An rpath to it is added to this
//! crate's own binaries, tests and examples so they run without LD_LIBRARY_PATH, and
//! the directory is exported to dependent crates as `DEP_SPECDEC_LIB_DIR` (rustc-link-arg
//! does not propagate, so a dependent binary sets its own rpath from it).

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=SPECDEC_LIB_DIR");
    println!("cargo:rerun-if-changed=build.rs");

    let dir = match env::var_os("SPECDEC_LIB_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("..")
            .join("dist")
            .join("lib"),
    };
    let dir = dir.canonicalize().unwrap_or(dir);
    let lib = dir.join("libspecdec.so");
    if !lib.exists() {
        println!(
            "cargo:warning=libspecdec.so not found in {} (build it with scripts/build.sh or set SPECDEC_LIB_DIR)",
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
