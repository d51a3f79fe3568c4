//! The weekly summary for leads: DORA metrics per week ([`dora`]) in the team's weeks
//! ([`crate::week`]). Pure: the shell reads the history from its store.

pub mod dora;
pub mod report;
pub mod rollup;

#[cfg(test)]
mod tests;
