#!/usr/bin/env bash
# Mutation score of the handover model checks: breaks `primitives/src/handover.rs` one way at a
# time and reruns the model checks (`consensus-machine-models`), which must fail each time.
#
# 1. The named mutations below: bugs a reviewer would plant (each line: a name, the exact text in
#    the file and its replacement, separated by `@@`; `\n` for a newline). Prints the properties
#    that caught each.
# 2. `cargo mutants` (https://mutants.rs) over the same file, every mutant it generates, against
#    the same checks, built in a target directory of its own; its report goes to mutants.out/ in
#    the shared target directory.
#
# Usage: scripts/mutants.sh [named|cargo|all]   (default all; cargo-mutants is installed on demand)
# Takes about 20 minutes on 2 cores. The source file is restored on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
export SKIP_WASM_BUILD=1
what="${1:-all}"
file=primitives/src/handover.rs
checks=(-p consensus-machine-models --test model_check -- on_chain three_levels both_levels)

named() {
	backup=$(mktemp)
	cp "$file" "$backup"
	trap 'cp "$backup" "$file"; rm -f "$backup"' EXIT
	# Build once unmutated, so each mutant only rebuilds two small crates.
	cargo test --locked "${checks[@]}" >/dev/null 2>&1 || { echo "the unmutated checks fail"; exit 1; }
	local caught=0 missed=0
	while IFS= read -r line; do
		[[ -z "$line" ]] && continue
		name=${line%%@@*}
		cp "$backup" "$file"
		python3 - "$file" "$line" <<-'EOF'
			import sys
			path = sys.argv[1]
			_, old, new = (part.replace("\\n", "\n") for part in sys.argv[2].split("@@"))
			text = open(path).read()
			if text.count(old) != 1:
			    sys.exit(f"mutation text found {text.count(old)} times: {old!r}")
			open(path, "w").write(text.replace(old, new))
		EOF
		local log
		log=$(cargo test --locked "${checks[@]}" 2>&1 || true)
		if grep -q "^test result: ok" <<<"$log" && ! grep -q "FAILED" <<<"$log"; then
			echo "MISSED  $name"
			missed=$((missed + 1))
		else
			local by
			by=$(grep -o ': [a-z][a-z -]* broken by' <<<"$log" | sed 's/^: //; s/ broken by//' | sort -u | paste -sd ';' || true)
			[[ -z "$by" ]] && by=$(grep -m1 -E "error(\[|:)" <<<"$log" || echo "build failed")
			echo "caught  $name: $by"
			caught=$((caught + 1))
		fi
	done <<-'MUTATIONS'
		the handover clears what the backup must adopt@@store.set_required(next, required.clone());@@store.set_required(next, None);
		adoption threshold >= max_bad instead of > max_bad@@.filter(|(_, slots)| *slots > max_bad)@@.filter(|(_, slots)| *slots >= max_bad)
		a vote at a handed-over level counts@@	if level < current {\n		return Err(HandoverError::HandedOver);\n	}\n@@
		a seat may vote twice@@	if store.has_voted(level, seat) {\n		return Err(HandoverError::DuplicateVote);\n	}\n@@
		a vote counts one slot, not its seat's slots@@store.tally(level, v).saturating_add(slots)@@store.tally(level, v).saturating_add(1)
		votes count after the decision@@	if !store.decisions().is_empty() {\n		return Err(HandoverError::Decided);\n	}\n	let current = store.level();\n	if level > current@@	let current = store.level();\n	if level > current
		backups may vote anything@@check_vote(level, store.required(level).as_ref(), vote)?;@@check_vote(level, None, vote)?;
		backups decide one slot below the strong threshold@@let threshold = rules.threshold(level).ok_or(HandoverError::UnknownLevel)?;@@let threshold = rules.threshold(level).ok_or(HandoverError::UnknownLevel)?;\n	let threshold = if level > 0 { threshold.saturating_sub(1).max(1) } else { threshold };
		a requirement does not carry over a stalled level@@store.required(current).or_else(|| required_value(&store.tallies(current), max_bad))@@required_value(&store.tallies(current), max_bad)
		ties go to the highest value@@.then_with(|| vb.cmp(va))@@.then_with(|| va.cmp(vb))
		a handover is allowed after the decision@@	if !store.decisions().is_empty() {\n		return Err(HandoverError::Decided);\n	}\n	let current = store.level();\n	let next@@	let current = store.level();\n	let next
		the last level hands over to nothing@@	if rules.rule(next).is_err() {\n		return Err(HandoverError::LastLevel);\n	}\n@@
		the stored vote is not the one accepted@@	store.record_vote(level, seat, vote);@@	store.record_vote(level, seat, &Vote::Null);
		the stored decision is not the one announced@@		store.push_decision(level, v.clone());@@		store.push_decision(level, store.tallies(level).into_iter().map(|(w, _)| w).min().unwrap_or_else(|| v.clone()));
		ties go to the first value the store lists@@.max_by(|(va, a), (vb, b)| a.cmp(b).then_with(|| vb.cmp(va)))@@.min_by_key(|(_, slots)| core::cmp::Reverse(*slots))
		a refused vote is recorded first@@	check_vote(level, store.required(level).as_ref(), vote)?;\n	store.record_vote(level, seat, vote);@@	store.record_vote(level, seat, vote);\n	check_vote(level, store.required(level).as_ref(), vote)?;
	MUTATIONS
	echo "named mutations: $caught caught, $missed missed"
	cp "$backup" "$file"
	[[ $missed -eq 0 ]]
}

cargo_mutants() {
	if ! command -v cargo-mutants >/dev/null; then
		cargo install --locked cargo-mutants@27.1.0
	fi
	# cargo-mutants' own baseline would run the mutated package's tests, not the models': check
	# the unmutated tree here instead.
	cargo test --locked "${checks[@]}" >/dev/null 2>&1 || { echo "the unmutated checks fail"; exit 1; }
	# Each mutant is built in a copy of the tree and checked by the model checks only. The copy
	# gets its own target directory: cargo names a workspace crate's artifacts by its path
	# relative to the workspace, so a mutant built in the shared one would replace the real
	# crate's build there and be linked by the next ordinary test run.
	CARGO_TARGET_DIR="$CARGO_TARGET_DIR/mutants" cargo mutants --file "$file" --test-package consensus-machine-models -j 1 --baseline skip \
		--output "$CARGO_TARGET_DIR" --timeout 600 -- "${checks[@]:2}"
}

case "$what" in
named) named ;;
cargo) cargo_mutants ;;
all)
	named
	cargo_mutants
	;;
*) echo "usage: $0 [named|cargo|all]" >&2; exit 2 ;;
esac
