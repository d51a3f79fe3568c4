//! `keel config org-reference`: the organisation policy reference (`docs/organisation.md`),
//! generated from the policy model like the configuration reference.

use super::reference::table;
use std::fmt::Write;

/// Renders the organisation policy reference.
pub fn org_reference() -> String {
    let schema = keel_core::org::OrgPolicy::json_schema();
    let defs = &schema["definitions"];
    let mut s = String::from(
        "# Organisation policy reference (`.github/keel-org.toml`)\n\n\
         Generated from the policy model by `keel config org-reference`; do not edit by hand.\n\
         The file lives in the organisation's `.github` repository, on its default branch, and\n\
         Keel must be installed on that repository. Each floor or lock is either a bare value\n\
         (`hard`: never waived) or a table `{ value = …, enforcement = \"soft\" }` (waivable by\n\
         the members of `waive_team`). A repository may tighten a floor, never loosen it: the\n\
         stricter value wins, the check run says which and why, and a pull request that\n\
         loosens a hard key in `.github/keel.toml` fails its own check.\n\
         \n\
         ```toml\n\
         waive_team = \"eng-leads\"\n\
         \n\
         [defaults.coverage]\n\
         min_patch = 80\n\
         \n\
         [floor.coverage]\n\
         min_total = 70\n\
         max_drop = { value = 1, enforcement = \"soft\" }\n\
         \n\
         [floor.checks]\n\
         required = [\"build\"]\n\
         \n\
         [locked]\n\
         level = \"required\"\n\
         \n\
         [[scope]]\n\
         repos = [\"payments-*\"]\n\
         [scope.floor.coverage]\n\
         min_total = 90\n\
         \n\
         [[exception]]\n\
         repos = [\"legacy-billing\"]\n\
         keys = [\"coverage.min_total\"]\n\
         owner = \"@cto\"\n\
         reason = \"Rewrite lands in Q1\"\n\
         until = \"2027-03-31\"\n\
         ```\n\
         \n\
         When the file cannot be read or is invalid, the last good version holds for at most\n\
         an hour; then every check run fails with \"organisation policy unavailable\" until it\n\
         is fixed. A push to the `.github` repository makes Keel read it again.\n",
    );
    let _ = writeln!(s, "\n## Top-level keys\n");
    let mut keys = String::new();
    table(&mut keys, "org", &schema, defs);
    // Sections are named as the file writes them (`[floor.coverage]`).
    s.push_str(&keys.replace("[[org.", "[[").replace("[org.", "["));
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_section_of_the_policy_is_documented() {
        let text = super::org_reference();
        for section in [
            "`enforcement`",
            "`waive_team`",
            "`[floor]`",
            "`[floor.coverage]`",
            "`[locked]`",
            "`[[scope]]`",
            "`[[exception]]`",
        ] {
            assert!(text.contains(section), "{section} missing:\n{text}");
        }
    }
}
