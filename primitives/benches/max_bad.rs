//! Criterion benchmark of the exact `max_bad` (the aim: N = 10,000 in milliseconds).
use consensus_machine_primitives::stochastic::{max_bad, Epsilon, Probability};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};

fn exact_max_bad(c: &mut Criterion) {
	let mut group = c.benchmark_group("max_bad_exact");
	group.sample_size(20);
	let eps = Epsilon::default();
	for (label, p) in [("p=1/20", Probability::new(1, 20)), ("p=1/4", Probability::new(1, 4))] {
		let p = p.expect("valid probability");
		for n in [100u32, 1_000, 10_000] {
			group.bench_with_input(BenchmarkId::new(label, n), &n, |b, &n| {
				b.iter(|| max_bad(black_box(n), p, eps).expect("valid committee"))
			});
		}
	}
	group.finish();
}

criterion_group!(benches, exact_max_bad);
criterion_main!(benches);
