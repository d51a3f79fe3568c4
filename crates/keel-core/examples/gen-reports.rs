//! Writes the benchmark inputs to a directory, for comparing Keel with other tools on the
//! same files: `cargo run --release -p keel-core --example gen-reports -- DIR`.

#[path = "../benches/synthetic.rs"]
mod synthetic;

fn main() -> std::io::Result<()> {
    let dir = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/bench-inputs".into()),
    );
    std::fs::create_dir_all(&dir)?;
    let write = |name: &str, bytes: Vec<u8>| -> std::io::Result<()> {
        println!("{name}: {:.1} MB", bytes.len() as f64 / 1e6);
        std::fs::write(dir.join(name), bytes)
    };
    write("big.lcov", synthetic::lcov(3400, 1000))?;
    write("huge.lcov", synthetic::lcov(8000, 1000))?;
    write("big.xml", synthetic::cobertura(1200, 1000))?;
    write("big.sarif", synthetic::sarif(110_000))?;
    write("big.diff", synthetic::diff(50, 1000))?;
    Ok(())
}
