#!/usr/bin/env bash
# Mutation score of the handover: bugs planted one at a time, each of which a check must catch.
#
# 1. model: named mutations of `primitives/src/handover.rs` (the machine the pallet runs), bugs
#    a reviewer would plant, against the model checks (`consensus-machine-models`); prints the
#    properties that caught each.
# 2. pallet: named mutations of the pallet's own handover, statement and certificate code
#    (`pallets/consensus-machine/src/…`: the storage adapter, its guards, what it stores)
#    against the differential test (`tests::differential`); prints the failing tests and their
#    first assertion.
# 3. cargo: `cargo mutants` (https://mutants.rs) over `primitives/src/handover.rs`, every mutant
#    it generates, against the model checks; its report goes to mutants.out/ in the shared
#    target directory.
#
# Named mutations: one a line, `name@@old@@new` (in the part's file) or `name@@file@@old@@new`,
# the old text found exactly once; `\n` is a newline, `\t` a tab.
#
# Nothing here edits this tree: every mutant is built in a copy of it ($MUTANTS_SRC, refreshed
# from this tree first) with a target directory of its own ($CARGO_TARGET_DIR/mutants). Cargo
# names a workspace crate's artifacts by its path relative to the workspace, so a mutant built
# in the shared target directory would replace the real crate's build there and be linked by
# the next ordinary build from this tree. (The first run builds the pallet's dependencies there
# once, as long as a first build of its tests.)
#
# Parts 1 and 2 write their table ("mutation | caught by") into models/MUTANTS.md, each between
# its own markers, and that file's tables into docs/handover.md between `<!-- mutants:begin -->`
# and `<!-- mutants:end -->`: the documented table is this script's output, not written by hand.
#
# Usage: scripts/mutants.sh [named|model|pallet|cargo|all]
#   named = model + pallet (about 5 and 6 minutes on 2 cores, once the copy is built); all (the
#   default) = named + cargo. cargo-mutants is installed on demand.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
export SKIP_WASM_BUILD=1
what="${1:-all}"
tree=$(pwd)
copy="${MUTANTS_SRC:-$HOME/.cache/cm-mutants-src}"
mutants_target="$CARGO_TARGET_DIR/mutants"
model_file=primitives/src/handover.rs
model_checks=(-p consensus-machine-models --test model_check -- on_chain three_levels both_levels)
pallet_checks=(-p pallet-consensus-machine --lib -- tests::differential)

# The copy: this tree as it is (uncommitted changes included), without its git directory or
# build output. Only files whose content differs are written (so they get a new time, and cargo
# rebuilds what depends on them: a file restored after a mutant, or left mutated by an
# interrupted run, is never taken as up to date); the others keep their time, so that cargo
# rebuilds in the copy only what a mutant touches.
refresh_copy() {
	mkdir -p "$copy"
	python3 - "$tree" "$copy" <<-'EOF'
		import filecmp, os, shutil, sys
		tree, copy = sys.argv[1:]
		skip = {".git", "target", "mutants.out"}
		wanted = set()
		for root, dirs, files in os.walk(tree):
		    rel = os.path.relpath(root, tree)
		    dirs[:] = [d for d in dirs if d not in skip]
		    for name in files:
		        path = os.path.normpath(os.path.join(rel, name))
		        wanted.add(path)
		        source, target = os.path.join(tree, path), os.path.join(copy, path)
		        if os.path.islink(source) or not os.path.isfile(source):
		            continue
		        if os.path.isfile(target) and filecmp.cmp(source, target, shallow=False):
		            continue
		        os.makedirs(os.path.dirname(target), exist_ok=True)
		        shutil.copyfile(source, target)
		        shutil.copymode(source, target)
		for root, dirs, files in os.walk(copy):
		    rel = os.path.relpath(root, copy)
		    dirs[:] = [d for d in dirs if d not in skip]
		    for name in files:
		        path = os.path.normpath(os.path.join(rel, name))
		        if path not in wanted:
		            os.remove(os.path.join(copy, path))
	EOF
}

# Cargo in the copy, with the mutants' target directory.
in_copy() {
	(cd "$copy" && CARGO_TARGET_DIR="$mutants_target" cargo "$@")
}

# Applies mutation line $2 (default file $1) in the copy, keeping the file's text in $3; prints
# the file it changed.
plant() {
	python3 - "$copy" "$1" "$2" "$3" <<-'EOF'
		import shutil, sys
		copy, default, line, keep = sys.argv[1:]
		parts = [p.replace("\\n", "\n").replace("\\t", "\t") for p in line.split("@@")]
		if len(parts) == 3:
		    name, old, new = parts
		    path = default
		else:
		    name, path, old, new = parts
		full = f"{copy}/{path}"
		text = open(full).read()
		if text.count(old) != 1:
		    sys.exit(f"{name}: mutation text found {text.count(old)} times in {path}: {old!r}")
		shutil.copyfile(full, keep)
		open(full, "w").write(text.replace(old, new))
		print(path)
	EOF
}

# What caught a mutant, from its check's log ($1: model or pallet).
caught_by() {
	python3 -c '
import re, sys
kind, log = sys.argv[1], sys.stdin.read()
found = []
if kind == "model":
    found = sorted(set(re.findall(r": ([a-z][a-z -]*) broken by", log)))
else:
    # Each failing test, with the first line of its assertion, the trace left out.
    for thread, message in re.findall(r"thread \x27([^\x27]*)\x27[^\n]*? panicked at [^\n]*\n([^\n]*)", log):
        test = thread.split("::")[-1]
        message = re.sub(r"^assertion `left == right` failed: ", "", message)
        message = re.split(r" after \[| \[", message)[0]
        message = re.sub(r"\{[^{}]*\}", "", message).replace("  ", " ").strip()
        found.append(f"`{test}` ({message})")
    found.sort()
if not found:
    panic = re.search(r"panicked at [^\n]*\n([^\n]*)", log)
    error = re.search(r"^error(\[\w+\])?: [^\n]*", log, re.M)
    found = [panic.group(1) if panic else error.group(0) if error else "the build failed"]
print("; ".join(found))
' "$1"
}

# Runs the named mutations read from stdin: part $1 (model or pallet), default file $2, checks
# the rest. Writes the part's table; fails if any mutant is missed.
named_part() {
	local kind=$1 default=$2
	shift 2
	local checks=("$@") rows caught=0 missed=0 unbuilt=0 total=0
	rows=$(mktemp)
	refresh_copy
	# Each mutant's log, for a closer look.
	rm -rf "$mutants_target/logs/$kind-"*
	mkdir -p "$mutants_target/logs"
	# Build and check once unmutated, so each mutant only rebuilds what it touches.
	in_copy test --locked "${checks[@]}" >"$rows.log" 2>&1 || {
		tail -30 "$rows.log"
		echo "$kind: the unmutated checks fail in the copy"
		exit 1
	}
	while IFS= read -r line; do
		[[ -z "$line" ]] && continue
		local name=${line%%@@*} path log by
		path=$(plant "$default" "$line" "$rows.original")
		log=$(in_copy test --locked "${checks[@]}" 2>&1 </dev/null || true)
		printf '%s\n' "$log" >"$mutants_target/logs/$kind-$total.log"
		# Restored as the copy had it (this tree may have changed since), with a new time.
		cp "$rows.original" "$copy/$path"
		total=$((total + 1))
		if grep -q "^error: could not compile" <<<"$log"; then
			# A mutant that does not build proves nothing about the checks: mend its text.
			echo "UNBUILT $name: $(grep -m1 -E '^error(\[\w+\])?: ' <<<"$log")"
			unbuilt=$((unbuilt + 1))
			by="**does not build**"
		elif grep -q "^test result: ok" <<<"$log" && ! grep -q "FAILED" <<<"$log"; then
			echo "MISSED  $name"
			missed=$((missed + 1))
			by="**MISSED**"
		else
			by=$(caught_by "$kind" <<<"$log")
			echo "caught  $name: $by"
			caught=$((caught + 1))
		fi
		printf '%s\t%s\n' "$name" "$by" >>"$rows"
	done
	echo "$kind named mutations: $caught caught, $missed missed, $unbuilt not built"
	write_table "$kind" "$default" "$caught" "$total" "${checks[*]}" "$rows"
	rm -f "$rows" "$rows.log" "$rows.original"
	[[ $missed -eq 0 && $unbuilt -eq 0 ]]
}

# Writes part $1's table (rows in file $6) into models/MUTANTS.md and the tables into
# docs/handover.md.
write_table() {
	python3 - "$@" <<-'EOF'
		import re, sys
		kind, file, caught, total, checks, rows = sys.argv[1:]
		rows = [l.rstrip("\n").split("\t") for l in open(rows) if l.strip()]
		cell = lambda s: s.replace("|", "\\|")
		what = {
		    "model": f"Bugs planted in `{file}`, the machine the pallet runs, against the model checks: "
		             "each caught by the properties named.",
		    "pallet": "Bugs planted in the pallet's own handover, statement and certificate code "
		              "(`pallets/consensus-machine/src/`), against the differential test: each caught by the "
		              "tests named (with their first failed assertion).",
		}[kind]
		section = "\n".join(
		    [f"<!-- mutants:{kind}:begin -->",
		     f"{what} **{caught} of {total} caught** (`cargo test {checks}`).",
		     "",
		     "| mutation | caught by |",
		     "|---|---|"]
		    + [f"| {cell(name)} | {cell(by)} |" for name, by in rows]
		    + [f"<!-- mutants:{kind}:end -->"])
		path = "models/MUTANTS.md"
		try:
		    text = open(path).read()
		except FileNotFoundError:
		    text = ("# Mutation score\n\nGenerated by `scripts/mutants.sh named`; do not edit by hand. "
		            "Each row is a bug planted in a copy of the tree, one at a time.\n\n"
		            "<!-- mutants:begin -->\n<!-- mutants:model:begin -->\n<!-- mutants:model:end -->\n\n"
		            "<!-- mutants:pallet:begin -->\n<!-- mutants:pallet:end -->\n<!-- mutants:end -->\n")
		pattern = re.compile(f"<!-- mutants:{kind}:begin -->.*?<!-- mutants:{kind}:end -->", re.S)
		text = pattern.sub(lambda _: section, text)
		open(path, "w").write(text)
		block = re.search(r"<!-- mutants:begin -->.*?<!-- mutants:end -->", text, re.S).group(0)
		doc = "docs/handover.md"
		readme = open(doc).read()
		both = re.compile(r"<!-- mutants:begin -->.*?<!-- mutants:end -->", re.S)
		if not both.search(readme):
		    sys.exit(f"{doc} has no <!-- mutants:begin --> … <!-- mutants:end --> markers")
		open(doc, "w").write(both.sub(lambda _: block, readme))
	EOF
}

model() {
	named_part model "$model_file" "${model_checks[@]}" <<-'MUTATIONS'
		the handover clears what the backup must adopt@@store.set_required(next, required.clone());@@store.set_required(next, None);
		adoption threshold >= max_bad instead of > max_bad@@.filter(|(_, slots)| *slots > max_bad)@@.filter(|(_, slots)| *slots >= max_bad)
		a vote at a handed-over level counts@@	if level < current {\n		return Err(HandoverError::HandedOver);\n	}\n@@
		a seat may vote twice@@	if store.has_voted(level, seat) {\n		return Err(HandoverError::DuplicateVote);\n	}\n@@
		a vote counts one slot, not its seat's slots@@store.tally(level, v).saturating_add(slots)@@store.tally(level, v).saturating_add(1)
		a vote counts at most two slots@@store.tally(level, v).saturating_add(slots)@@store.tally(level, v).saturating_add(slots.min(2))
		a level decides only when a vote lands exactly on its threshold@@	if tally >= threshold {@@	if tally == threshold {
		votes count after the decision@@	if !store.decisions().is_empty() {\n		return Err(HandoverError::Decided);\n	}\n	let current = store.level();\n	if level > current@@	let current = store.level();\n	if level > current
		backups may vote anything@@check_vote(level, store.required(level).as_ref(), vote)?;@@check_vote(level, None, vote)?;
		backups decide one slot below the strong threshold@@let threshold = rules.threshold(level).ok_or(HandoverError::UnknownLevel)?;@@let threshold = rules.threshold(level).ok_or(HandoverError::UnknownLevel)?;\n	let threshold = if level > 0 { threshold.saturating_sub(1).max(1) } else { threshold };
		a requirement does not carry over a stalled level@@store.required(current).or_else(|| required_value(&store.tallies(current), max_bad))@@required_value(&store.tallies(current), max_bad)
		the adoption rule weighs only the first two values the store lists@@	tallies\n		.iter()\n		.filter(@@	tallies\n		.iter()\n		.take(2)\n		.filter(
		ties go to the highest value@@.then_with(|| vb.cmp(va))@@.then_with(|| va.cmp(vb))
		a handover is allowed after the decision@@	if !store.decisions().is_empty() {\n		return Err(HandoverError::Decided);\n	}\n	let current = store.level();\n	let next@@	let current = store.level();\n	let next
		the last level hands over to nothing@@	if rules.rule(next).is_err() {\n		return Err(HandoverError::LastLevel);\n	}\n@@
		the stored vote is not the one accepted@@	store.record_vote(level, seat, vote);@@	store.record_vote(level, seat, &Vote::Null);
		the stored decision is not the one announced@@		store.push_decision(level, v.clone());@@		store.push_decision(level, store.tallies(level).into_iter().map(|(w, _)| w).min().unwrap_or_else(|| v.clone()));
		ties go to the first value the store lists@@.max_by(|(va, a), (vb, b)| a.cmp(b).then_with(|| vb.cmp(va)))@@.min_by_key(|(_, slots)| core::cmp::Reverse(*slots))
		a refused vote is recorded first@@	check_vote(level, store.required(level).as_ref(), vote)?;\n	store.record_vote(level, seat, vote);@@	store.record_vote(level, seat, vote);\n	check_vote(level, store.required(level).as_ref(), vote)?;
	MUTATIONS
}

pallet() {
	named_part pallet pallets/consensus-machine/src/rounds/handover.rs "${pallet_checks[@]}" <<-'MUTATIONS'
		every certificate signer stored with the first signer's signature@@pallets/consensus-machine/src/rounds/vote.rs@@\t\tfor ((index, signature), seat) in signatures.into_iter().zip(seats) {\n@@\t\tlet first = signatures[0].1;\n\t\tfor ((index, _), seat) in signatures.into_iter().zip(seats) {\n\t\t\tlet signature = first;\n
		`start_handover` takes a round that is not its family's current level@@\t\tensure!(levels.last() == Some(&round_id), Error::<T>::HandedOver);\n@@
		a tally stored at the primary's round, whatever the level@@\t\tTallies::<T>::insert(self.round_at(level), value, slots);@@\t\tTallies::<T>::insert(self.round_at(0), value, slots);
		the backup round does not store the value it must adopt@@let commitment = Commitment::Backup { root: root_id, level: to_level, required };@@let commitment = Commitment::Backup { root: root_id, level: to_level, required: None };
		a vote stored for the neighbouring seat@@\t\t\tStatements::<T>::insert(self.round_at(level), seat, (body, signature));@@\t\t\tStatements::<T>::insert(self.round_at(level), seat ^ 1, (body, signature));
		the value a level must adopt read from the primary's round@@let read = || Rounds::<T>::get(self.round_at(level)).and_then(|r| r.required());@@let read = || Rounds::<T>::get(self.root_id).and_then(|r| r.required());
		the adapter's current level is always the primary@@self.next_level.unwrap_or(self.levels.len().saturating_sub(1) as u8)@@self.next_level.unwrap_or(0)
		the backup round opened at the frozen level's index@@let commitment = Commitment::Backup { root: root_id, level: to_level, required };@@let commitment = Commitment::Backup { root: root_id, level: round.level, required };
		a vote counts one slot, not its seat's@@pallets/consensus-machine/src/rounds/vote.rs@@handover::submit(store, rules, statement.level, seat_index, seat.slots, &vote)@@handover::submit(store, rules, statement.level, seat_index, 1, &vote)
		certificates skip the suspended-signer check@@pallets/consensus-machine/src/rounds/vote.rs@@\t\tfor seat in &seats {\n\t\t\tSelf::ensure_may_sign(&seat.agent)?;\n\t\t}\n@@
		a certificate signer that already voted votes again@@pallets/consensus-machine/src/rounds/vote.rs@@Self::prove_equivocation(&submitter, &statement, seat, signature, earlier)? {\n\t\t\t\t\tproven += 1;\n\t\t\t\t}\n\t\t\t\tcontinue;\n@@Self::prove_equivocation(&submitter, &statement, seat.clone(), signature.clone(), earlier)? {\n\t\t\t\t\tproven += 1;\n\t\t\t\t}\n
		an equivocation through a certificate goes unpunished@@pallets/consensus-machine/src/rounds/vote.rs@@\t\tif body == statement.body || Self::is_offence_recorded(@@\t\tif true || Self::is_offence_recorded(
		a backup's certificate stored under the primary's round@@pallets/consensus-machine/src/rounds/decide.rs@@Self::record_certificate(round_id, &round, Some(root_id), statement, value, slots);@@Self::record_certificate(root_id, &round, Some(root_id), statement, value, slots);
		a certificate's slots read from the primary's tally@@pallets/consensus-machine/src/rounds/decide.rs@@let slots = Tallies::<T>::get(round_id, value);@@let slots = Tallies::<T>::get(root_id, value);
	MUTATIONS
}

cargo_mutants() {
	if ! command -v cargo-mutants >/dev/null; then
		cargo install --locked cargo-mutants@27.1.0
	fi
	# cargo-mutants' own baseline would run the mutated package's tests, not the models': check
	# the unmutated tree here instead (in the copy, as for the named mutants).
	refresh_copy
	in_copy test --locked "${model_checks[@]}" >/dev/null 2>&1 || {
		echo "the unmutated checks fail"
		exit 1
	}
	# cargo-mutants builds each mutant in a copy of its own, in the mutants' target directory.
	(cd "$copy" && CARGO_TARGET_DIR="$mutants_target" cargo mutants --file "$model_file" \
		--test-package consensus-machine-models -j 1 --baseline skip \
		--output "$CARGO_TARGET_DIR" --timeout 900 -- "${model_checks[@]:2}")
}

case "$what" in
model) model ;;
pallet) pallet ;;
named)
	model
	pallet
	;;
cargo) cargo_mutants ;;
all)
	model
	pallet
	cargo_mutants
	;;
*)
	echo "usage: $0 [named|model|pallet|cargo|all]" >&2
	exit 2
	;;
esac
