//! Shared by the benchmarks: a rate measured after a short warm-up, printed as a line.

use std::time::Instant;

/// Runs `f` `iterations` times (after a tenth as many to warm up) and prints the rate.
pub(crate) fn rate(label: &str, iterations: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..iterations / 10 {
        f();
    }
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    let per_second = iterations as f64 / start.elapsed().as_secs_f64();
    println!("{label:<52} {per_second:>10.0} /s");
    per_second
}

/// `BENCH_ITERATIONS` from the environment, or the default.
pub(crate) fn iterations(default: usize) -> usize {
    std::env::var("BENCH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
