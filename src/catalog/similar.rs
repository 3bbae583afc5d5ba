//! "Did you mean …" matching: picks the candidate closest to a misspelt name.
//!
//! One rule for every hint the catalog gives (operation ids, field names, enum
//! values), so hints feel the same everywhere. It does not rank several
//! suggestions; one good guess or none.

/// The candidate closest to `input`, or `None` when nothing is close enough to be a
/// plausible typo.
///
/// Comparison ignores ASCII case (`topicIDs` finds `topicIds`) and counts a swap of two
/// neighbouring letters as one edit. The allowed distance grows with the candidate's
/// length: one edit for short names, about one in four characters for long ones. On a
/// tie the earlier candidate wins.
pub fn closest<'a, I>(input: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let input = input.to_ascii_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let distance = strsim::damerau_levenshtein(&input, &candidate.to_ascii_lowercase());
        let allowed = ((candidate.chars().count() + 2) / 4).max(1);
        let better = best.is_none_or(|(d, _)| distance < d);
        if distance <= allowed && better {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_and_case_slips() {
        assert_eq!(closest("typ", ["id", "type", "original"]), Some("type"));
        assert_eq!(
            closest("MOBIL", ["HOME", "MOBILE", "OFFICE"]),
            Some("MOBILE")
        );
        assert_eq!(closest("emial", ["emails", "email"]), Some("email"));
        assert_eq!(closest("topicIDs", ["topicIds"]), Some("topicIds"));
        assert_eq!(
            closest("createCustomr", ["createCustomer", "createTask"]),
            Some("createCustomer")
        );
    }

    #[test]
    fn stays_quiet_when_nothing_is_close() {
        assert_eq!(closest("foo", ["id", "to", "name"]), None);
        assert_eq!(closest("zzzzzz", ["getAgents"]), None);
        assert_eq!(closest("x", std::iter::empty()), None);
    }

    #[test]
    fn prefers_the_nearest_then_the_first() {
        assert_eq!(closest("nam", ["name", "game"]), Some("name"));
        assert_eq!(
            closest("getAgent", ["getAgents", "getAgent"]),
            Some("getAgent")
        );
    }
}
