//! Sets an rpath to libspecdec's directory, which the specdec crate exports as
//! DEP_SPECDEC_LIB_DIR (a dependency's rustc-link-arg does not reach this binary).

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_SPECDEC_LIB_DIR");
    if let Ok(dir) = std::env::var("DEP_SPECDEC_LIB_DIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
