//! "Did you mean ...?": the candidate closest to a misspelt word, found in time that does not
//! grow with the number of candidates times the number of misspellings.
//!
//! [`Suggestions`] sorts its candidates once, forwards and by their reversed text. A typo leaves
//! either the start or the end of the word intact (one edit changes one place), so the intended
//! word sorts near it in one of the two orders: only the nearest [`NEIGHBOURS`] on each side in
//! each order are compared, each in `O(len²)`. (It can miss when more than that many ids share
//! the typo's start and end up to the edit: a heuristic, good for a hint.) A lookup is then `O(log n)`, and validating a
//! file with 20,000 unknown dependencies among 20,000 ids is `n log n`, where comparing each
//! with every id was quadratic. Small candidate lists (field names) are compared whole.

/// How many sorted neighbours on each side of a word, in each order, are compared with it.
const NEIGHBOURS: usize = 8;
/// Lists up to this long are searched whole.
const SMALL: usize = 4 * NEIGHBOURS;

/// Candidates indexed for suggestions.
#[derive(Debug)]
pub(crate) struct Suggestions<'c> {
    /// Sorted, without duplicates.
    forward: Vec<&'c str>,
    /// The same, each with its reversed text, sorted by it.
    backward: Vec<(String, &'c str)>,
}

impl<'c> Suggestions<'c> {
    /// Indexes `candidates`.
    pub(crate) fn new(candidates: impl IntoIterator<Item = &'c str>) -> Self {
        let mut forward: Vec<&str> = candidates.into_iter().collect();
        forward.sort_unstable();
        forward.dedup();
        let mut backward: Vec<(String, &str)> = if forward.len() > SMALL {
            forward
                .iter()
                .map(|c| (c.chars().rev().collect(), *c))
                .collect()
        } else {
            Vec::new()
        };
        backward.sort_unstable();
        Self { forward, backward }
    }

    /// The closest candidate to `word` (other than `word` itself), if within a third of its
    /// length in edits (at least one): a likely typo. Ties go to the first in sorted order.
    pub(crate) fn best(&self, word: &str) -> Option<&'c str> {
        let limit = (word.chars().count() / 3).max(1);
        let mut best: Option<(usize, &'c str)> = None;
        let mut consider = |candidate: &'c str| {
            if candidate == word {
                return;
            }
            let bound = best.map_or(limit, |(d, _)| d);
            if let Some(d) = edit_distance(word, candidate, bound)
                && best.is_none_or(|(b, c)| (d, candidate) < (b, c))
            {
                best = Some((d, candidate));
            }
        };
        if self.forward.len() <= SMALL {
            self.forward.iter().for_each(|c| consider(c));
        } else {
            let at = self.forward.partition_point(|c| *c < word);
            let range = at.saturating_sub(NEIGHBOURS)..(at + NEIGHBOURS).min(self.forward.len());
            self.forward[range].iter().for_each(|c| consider(c));
            let reversed: String = word.chars().rev().collect();
            let at = self
                .backward
                .partition_point(|(r, _)| r.as_str() < reversed.as_str());
            let range = at.saturating_sub(NEIGHBOURS)..(at + NEIGHBOURS).min(self.backward.len());
            self.backward[range].iter().for_each(|(_, c)| consider(c));
        }
        best.map(|(_, c)| c)
    }
}

/// The closest of `candidates` to `word`, if close enough to be a likely typo (see
/// [`Suggestions::best`]).
pub(crate) fn suggest<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    Suggestions::new(candidates).best(word)
}

/// The Levenshtein distance between `a` and `b` in characters, if at most `bound` (`None` as soon
/// as it must be more).
fn edit_distance(a: &str, b: &str, bound: usize) -> Option<usize> {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > bound {
        return None;
    }
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        let mut smallest = row[0];
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
            smallest = smallest.min(row[j + 1]);
        }
        if smallest > bound {
            return None;
        }
    }
    Some(row[b.len()]).filter(|&d| d <= bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_need_to_be_close() {
        assert_eq!(suggest("fetc", ["fetch", "build"]), Some("fetch"));
        assert_eq!(suggest("zzzz", ["fetch", "build"]), None);
        assert_eq!(
            suggest("fetch", ["fetch"]),
            None,
            "the word itself is no suggestion"
        );
        assert_eq!(edit_distance("kitten", "sitting", 5), Some(3));
        assert_eq!(edit_distance("kitten", "sitting", 2), None);
        assert_eq!(edit_distance("", "abc", 3), Some(3));
    }

    #[test]
    fn a_typo_is_found_among_many_ids_sharing_a_prefix_or_a_suffix() {
        let ids: Vec<String> = (0..20_000)
            .map(|i| format!("test-{i}"))
            .chain((0..5_000).map(|i| format!("step-{i}-build")))
            .collect();
        let index = Suggestions::new(ids.iter().map(String::as_str));
        assert_eq!(index.best("tesk-5"), Some("test-5"));
        assert_eq!(index.best("test-19998x"), Some("test-19998"));
        assert_eq!(index.best("xtest-123"), Some("test-123"));
        assert_eq!(index.best("step-42-biuld"), Some("step-42-build"));
        assert_eq!(index.best("stp-4999-build"), Some("step-4999-build"));
        assert_eq!(index.best("deploy"), None);
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// One edit of an id is suggested back as that id, or as another just as close, as the
        /// search of every id would: among random ids, few share a start or an end with the typo,
        /// so the intended id is always among the neighbours compared.
        #[test]
        fn one_edit_is_found_as_the_full_search_finds_it(
            ids in proptest::collection::btree_set("[a-z]{4,8}", 40..300),
            pick in any::<prop::sample::Index>(),
            at in any::<prop::sample::Index>(),
            with in prop::sample::select(vec!['a', 'q', 'z', '-']),
            kind in 0..3u8,
        ) {
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            let id = ids[pick.index(ids.len())];
            let mut chars: Vec<char> = id.chars().collect();
            let i = at.index(chars.len());
            match kind {
                0 => { chars.remove(i); }
                1 => chars.insert(i, with),
                _ => chars[i] = with,
            }
            let typo: String = chars.into_iter().collect();
            prop_assume!(!ids.contains(&typo.as_str()));
            let full = ids
                .iter()
                .filter(|c| **c != typo)
                .filter_map(|c| edit_distance(&typo, c, (typo.chars().count() / 3).max(1)))
                .min();
            let found = Suggestions::new(ids.iter().copied()).best(&typo);
            let distance = found.and_then(|f| edit_distance(&typo, f, usize::MAX));
            prop_assert_eq!(distance, full, "{} -> {:?}", typo, found);
        }
    }
}
