//! Why a change exists and what it does to technical debt: roadmap links ([`roadmap`]) and
//! the debt verdict ([`debt`]), both pure functions of the config and the facts. The policy
//! turns them into criteria where the config asks ([`crate::policy`]), the renderers into the
//! sticky comment.

pub mod debt;
pub mod roadmap;

use crate::quote::code;

#[cfg(test)]
mod tests;
