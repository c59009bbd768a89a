//! API mirrors of domain enums, so the spec lists their values.

use poem_openapi::Enum;

use crate::domain::problem::{Field, Group};

/// A contest field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, serde::Serialize)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum FieldCode {
    Health,
    Education,
    Finance,
    Agriculture,
    Transport,
    Energy,
    Environment,
    Industry,
    Government,
    Tourism,
    Community,
}

/// A contest group: by sector, by locality, by enterprise, or a community project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, serde::Serialize)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum GroupCode {
    Sector,
    Locality,
    Enterprise,
    Community,
}

macro_rules! mirror {
    ($api:ident, $domain:ident, [$($v:ident),+]) => {
        impl From<$domain> for $api {
            fn from(d: $domain) -> Self {
                match d { $($domain::$v => $api::$v),+ }
            }
        }
        impl From<$api> for $domain {
            fn from(a: $api) -> Self {
                match a { $($api::$v => $domain::$v),+ }
            }
        }
    };
}

mirror!(
    FieldCode,
    Field,
    [
        Health,
        Education,
        Finance,
        Agriculture,
        Transport,
        Energy,
        Environment,
        Industry,
        Government,
        Tourism,
        Community
    ]
);
mirror!(GroupCode, Group, [Sector, Locality, Enterprise, Community]);
