//! Property tests of the file reader: mangled workflow files never panic the validator, and every
//! problem it reports points inside the file.

use std::path::Path;
use std::sync::LazyLock;

use baton_cli::validate::check;
use proptest::prelude::*;

/// The example workflows, as mutation seeds (read once).
static SEEDS: LazyLock<Vec<String>> = LazyLock::new(|| {
    crate::examples()
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
});

/// One edit: delete, insert or replace a character somewhere, from an alphabet that makes TOML
/// interesting (quotes, brackets, equals signs, newlines, digits, non-ASCII).
#[derive(Debug, Clone)]
enum Edit {
    Delete(prop::sample::Index),
    Insert(prop::sample::Index, char),
    Replace(prop::sample::Index, char),
}

fn edit() -> impl Strategy<Value = Edit> {
    let ch = prop::sample::select(vec![
        '"', '\'', '[', ']', '{', '}', '=', ',', '\n', '#', '.', '0', '9', 'x', ' ', 'é', '\\',
    ]);
    prop_oneof![
        any::<prop::sample::Index>().prop_map(Edit::Delete),
        (any::<prop::sample::Index>(), ch.clone()).prop_map(|(i, c)| Edit::Insert(i, c)),
        (any::<prop::sample::Index>(), ch).prop_map(|(i, c)| Edit::Replace(i, c)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for e in edits {
        match e {
            Edit::Delete(i) if !chars.is_empty() => {
                chars.remove(i.index(chars.len()));
            }
            Edit::Insert(i, c) => chars.insert(i.index(chars.len() + 1), *c),
            Edit::Replace(i, c) if !chars.is_empty() => {
                let at = i.index(chars.len());
                chars[at] = *c;
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn mangled_files_are_rejected_with_locations_inside_the_file(
        seed in any::<prop::sample::Index>(),
        edits in proptest::collection::vec(edit(), 1..6),
    ) {
        let text = apply(&SEEDS[seed.index(SEEDS.len())], &edits);
        let lines: Vec<&str> = text.split('\n').collect();
        if let Err(invalid) = check(Path::new("mangled.toml"), &text) {
            prop_assert!(!invalid.problems.is_empty());
            for p in &invalid.problems {
                prop_assert!(p.line >= 1 && p.line <= lines.len(), "{p:?} in {} lines", lines.len());
                let width = lines[p.line - 1].chars().count();
                prop_assert!(p.column >= 1 && p.column <= width + 1, "{p:?} on a line of {width}");
                prop_assert!(!p.message.is_empty());
            }
        }
    }
}
