//! Criterion benchmark of committee draws (the aim: 1,000 slots from 100,000 agents in
//! milliseconds).
use consensus_machine_primitives::selection::{draw, group, MemoryTree};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};

fn committee_draw(c: &mut Criterion) {
	let mut group_ = c.benchmark_group("draw");
	group_.sample_size(20);
	for agents in [1_000u32, 100_000] {
		let stakes: Vec<u128> = (0..agents).map(|i| 1_000 + u128::from(i % 97) * 10).collect();
		let total: u128 = stakes.iter().sum();
		let tree = MemoryTree::from_stakes(&stakes);
		for slots in [100u32, 1_000] {
			let id = BenchmarkId::new(format!("{agents} agents"), slots);
			group_.bench_with_input(id, &slots, |b, &slots| {
				b.iter(|| group(&draw(&tree, black_box(&[7; 32]), slots, total).expect("stake")))
			});
		}
	}
	group_.finish();
}

criterion_group!(benches, committee_draw);
criterion_main!(benches);
