//! The throwaway PostgreSQL the store tests run against (`support::postgres`): each
//! `database()` is a new, empty database of its own on one cluster per test process.

use crate::support::postgres::{database, psql, with_database};

#[test]
fn each_database_is_new_empty_and_its_own() {
    let (a, b) = (database(), database());
    assert_ne!(a, b);
    let tables = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'";
    for url in [&a, &b] {
        let name = url.rsplit('/').next().unwrap();
        assert_eq!(psql(url, "SELECT current_database()"), name, "{url}");
        assert_eq!(psql(url, tables), "0", "{url}");
        assert_eq!(psql(url, "SHOW server_encoding"), "UTF8", "{url}");
    }
    psql(
        &a,
        "CREATE TABLE story (id bigint PRIMARY KEY); INSERT INTO story VALUES (1), (2)",
    );
    assert_eq!(psql(&a, "SELECT id FROM story ORDER BY id"), "1\n2");
    assert_eq!(psql(&b, tables), "0", "a table in {a} shows in {b}");
    let version = psql(&a, "SELECT version()");
    assert!(version.starts_with("PostgreSQL "), "{version}");
}

#[test]
fn a_database_url_keeps_all_but_the_database_name() {
    assert_eq!(
        with_database("postgres://feedsift@127.0.0.1:5432/postgres", "t_1_0"),
        "postgres://feedsift@127.0.0.1:5432/t_1_0"
    );
    assert_eq!(
        with_database("postgresql://u:p@db.example:6543?sslmode=disable", "t_1_0"),
        "postgresql://u:p@db.example:6543/t_1_0?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://u@h/x?a=b&c=d", "y"),
        "postgres://u@h/y?a=b&c=d"
    );
}
