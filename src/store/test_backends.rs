//! Both engines for the store's tests: each test written once runs on a sled directory and on
//! a PostgreSQL database of its own (`on_both_backends!`).

#[path = "../../tests/it/support/postgres.rs"]
mod pg_cluster;

use super::{PgOptions, Store};
use std::time::Duration;

pub(crate) enum TestStore {
    Sled(tempfile::TempDir),
    Postgres(PgOptions),
}

impl TestStore {
    pub(crate) fn sled() -> TestStore {
        TestStore::Sled(tempfile::tempdir().expect("a temporary directory"))
    }

    pub(crate) fn postgres() -> TestStore {
        TestStore::Postgres(PgOptions {
            url: pg_cluster::database(),
            node_id: "test-node".into(),
            connections: 4,
            lease: Duration::from_secs(30),
        })
    }

    /// Opens the store (again: as after a restart, with what was written before).
    pub(crate) fn open(&self) -> Store {
        match self {
            TestStore::Sled(dir) => Store::reopen(dir.path()).expect("the sled store opens"),
            TestStore::Postgres(options) => {
                Store::open_postgres(options).expect("the PostgreSQL store opens")
            }
        }
    }

    /// Another node of the same store (PostgreSQL only).
    pub(crate) fn node(&self, node_id: &str) -> Store {
        match self {
            TestStore::Sled(_) => panic!("a sled store has one node"),
            TestStore::Postgres(options) => Store::open_postgres(&PgOptions {
                node_id: node_id.into(),
                ..options.clone()
            })
            .expect("the PostgreSQL store opens"),
        }
    }
}

/// `on_both_backends!(name)` runs `fn name(backend: &TestStore)` as the tests `name::sled`
/// and `name::postgres`.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sled() {
                    super::$name(&$crate::store::test_backends::TestStore::sled());
                }

                #[test]
                fn postgres() {
                    super::$name(&$crate::store::test_backends::TestStore::postgres());
                }
            }
        )+
    };
}
pub(crate) use on_both_backends;
