//! `--tags` and `--skip-tags`, with Ansible's meaning: a task's tags are its own and its
//! play's; `all` (the default) selects every task not tagged `never`; `tagged` and
//! `untagged` select by having tags at all; a task tagged `always` runs unless `always` is
//! skipped; a task tagged `never` runs only when one of its tags is asked for by name.

/// Which tasks a run selects by tag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagFilter {
    pub only: Vec<String>,
    pub skip: Vec<String>,
}

impl TagFilter {
    pub fn selects(&self, tags: &[String]) -> bool {
        let has = |list: &[String], t: &str| list.iter().any(|x| x == t);
        let tagged = !tags.is_empty();
        let never = has(tags, "never");
        let always = has(tags, "always");
        let asked = |list: &[String]| tags.iter().any(|t| has(list, t));
        let only: &[String] = &self.only;
        let run = if only.is_empty() {
            !never || always
        } else {
            (always && !has(&self.skip, "always"))
                || (has(only, "all") && !never)
                || asked(only)
                || (has(only, "tagged") && tagged && !never)
                || (has(only, "untagged") && !tagged)
        };
        if !run {
            return false;
        }
        let skip: &[String] = &self.skip;
        let skipped = if has(skip, "all") {
            !always || has(skip, "always")
        } else {
            asked(skip) || (has(skip, "tagged") && tagged) || (has(skip, "untagged") && !tagged)
        };
        !skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn runs(only: &[&str], skip: &[&str], tags: &[&str]) -> bool {
        TagFilter {
            only: v(only),
            skip: v(skip),
        }
        .selects(&v(tags))
    }

    #[test]
    fn ansible_tag_rules() {
        // No filter: all but `never`.
        assert!(runs(&[], &[], &[]));
        assert!(runs(&[], &[], &["a"]));
        assert!(!runs(&[], &[], &["never"]));
        // --tags a
        assert!(runs(&["a"], &[], &["a", "b"]));
        assert!(!runs(&["a"], &[], &["b"]));
        assert!(!runs(&["a"], &[], &[]));
        assert!(runs(&["a"], &[], &["always"]));
        assert!(runs(&["debug"], &[], &["never", "debug"]));
        assert!(!runs(&["all"], &[], &["never", "debug"]));
        assert!(runs(&["tagged"], &[], &["x"]));
        assert!(!runs(&["tagged"], &[], &[]));
        assert!(runs(&["untagged"], &[], &[]));
        // --skip-tags
        assert!(!runs(&[], &["b"], &["a", "b"]));
        assert!(runs(&[], &["b"], &["a"]));
        assert!(runs(&[], &["all"], &["always"]));
        assert!(!runs(&[], &["always"], &["always"]));
        assert!(!runs(&["a"], &["always"], &["always"]));
    }
}
