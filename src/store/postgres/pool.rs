//! Connections to PostgreSQL, each owned by a thread of its own: the store's callers may be
//! anywhere (an async task, a blocking thread), and the synchronous client must never run on
//! an async runtime's threads. A job is sent to a free connection and its answer awaited.

use super::dial::{DialError, Dialer, Opener};
use crate::config::store_tls::error_chain;
use crate::store::StoreError;
use postgres::types::ToSql;
use postgres::{Client, Row, Statement};
use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Longest any one statement may run: a stuck query fails instead of hanging its caller.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// One connection, opened on first use and again after it is lost, with its prepared
/// statements.
pub(crate) struct Connection {
    opener: Opener,
    client: Option<Client>,
    statements: HashMap<String, Statement>,
    place: String,
}

impl Connection {
    pub(crate) fn new(dialer: Dialer, place: String) -> Connection {
        Connection {
            opener: Opener::new(dialer),
            client: None,
            statements: HashMap::new(),
            place,
        }
    }

    /// The client, connected.
    pub(crate) fn client(&mut self) -> Result<&mut Client, StoreError> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            self.statements.clear();
            let mut client = self
                .opener
                .open()
                .map_err(|e| dial_error(&self.place, &e))?;
            // Custom plans always: a generic plan of `tree = $1` scans every tree's rows (430 ms
            // per render at 1M stories), and planning these small statements costs microseconds.
            // No JIT: it compiles for row estimates these short statements never reach (a
            // 2,000-range prune lookup took 57 ms with it, most of it compiling).
            client
                .batch_execute(&format!(
                    "SET statement_timeout = {}; SET plan_cache_mode = force_custom_plan; \
                     SET jit = off",
                    STATEMENT_TIMEOUT.as_millis()
                ))
                .map_err(|e| database_error(&self.place, &e))?;
            self.client = Some(client);
        }
        self.client.as_mut().ok_or_else(|| StoreError::Database {
            place: self.place.clone(),
            detail: "no connection".into(),
        })
    }

    /// `sql` prepared once per connection.
    pub(crate) fn prepared(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let place = self.place.clone();
        let statement = self
            .client()?
            .prepare(sql)
            .map_err(|e| database_error(&place, &e))?;
        self.statements.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    /// Runs `call` with `sql` prepared (once per connection); its error names the database.
    fn with_prepared<T>(
        &mut self,
        sql: &str,
        call: impl FnOnce(&mut Client, &Statement) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        let statement = self.prepared(sql)?;
        let done = call(self.client()?, &statement);
        done.map_err(|e| database_error(&self.place, &e))
    }

    /// The rows of `sql` with `params`.
    pub(crate) fn query(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Row>, StoreError> {
        self.with_prepared(sql, |c, s| c.query(s, params))
    }

    /// The one row of `sql`.
    pub(crate) fn query_one(&mut self, sql: &str, params: &[Param]) -> Result<Row, StoreError> {
        self.with_prepared(sql, |c, s| c.query_one(s, params))
    }

    /// The row of `sql`, if any.
    pub(crate) fn query_opt(
        &mut self,
        sql: &str,
        params: &[Param],
    ) -> Result<Option<Row>, StoreError> {
        self.with_prepared(sql, |c, s| c.query_opt(s, params))
    }

    /// Runs `sql`; the number of rows it changed.
    pub(crate) fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64, StoreError> {
        self.with_prepared(sql, |c, s| c.execute(s, params))
    }

    /// Runs statements without parameters (no preparing).
    pub(crate) fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        let done = self.client()?.batch_execute(sql);
        done.map_err(|e| database_error(&self.place, &e))
    }

    /// `work` in one transaction: committed when it succeeds, rolled back when it fails.
    pub(crate) fn in_transaction<T>(
        &mut self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.batch("BEGIN")?;
        match work(self) {
            Ok(value) => {
                self.batch("COMMIT")?;
                Ok(value)
            }
            Err(e) => {
                // A connection lost mid-way has rolled back on the server already.
                let _ = self.batch("ROLLBACK");
                Err(e)
            }
        }
    }

    pub(crate) fn place(&self) -> &str {
        &self.place
    }
}

/// A statement parameter.
pub(crate) type Param<'a> = &'a (dyn ToSql + Sync);

/// A PostgreSQL error as the store reports it.
pub(crate) fn database_error(place: &str, e: &postgres::Error) -> StoreError {
    StoreError::Database {
        place: place.to_string(),
        detail: error_detail(e),
    }
}

/// The server's code and message, or the client's error with its causes (a TLS handshake's
/// "invalid peer certificate: UnknownIssuer" is in a cause).
pub(super) fn error_detail(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => error_chain(e),
    }
}

/// No connection could be opened: every attempt's reason.
fn dial_error(place: &str, e: &DialError) -> StoreError {
    StoreError::Database {
        place: place.to_string(),
        detail: e.detail(),
    }
}

/// Connections shared by every clone of a store.
#[derive(Clone)]
pub(crate) struct Pool {
    jobs: Arc<Mutex<mpsc::Sender<Job>>>,
    place: Arc<str>,
}

impl Pool {
    /// `size` connections by `dialer`; `place` names the database in errors (no password).
    pub(crate) fn new(dialer: &Dialer, place: &str, size: usize) -> Result<Pool, StoreError> {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..size.max(1) {
            let receiver = Arc::clone(&receiver);
            let mut connection = Connection::new(dialer.clone(), place.to_string());
            std::thread::Builder::new()
                .name(format!("feedsift-pg-{n}"))
                .spawn(move || loop {
                    let job = {
                        let jobs = receiver.lock().unwrap_or_else(|p| p.into_inner());
                        jobs.recv()
                    };
                    match job {
                        Ok(job) => {
                            // A panicking job drops its answer (the caller gets an error);
                            // the connection thread lives on.
                            let run = std::panic::AssertUnwindSafe(|| job(&mut connection));
                            if std::panic::catch_unwind(run).is_err() {
                                connection.client = None;
                            }
                        }
                        // Every handle of the pool is gone.
                        Err(_) => break,
                    }
                })
                .map_err(|e| StoreError::Database {
                    place: place.to_string(),
                    detail: format!("cannot start a connection thread: {e}"),
                })?;
        }
        Ok(Pool {
            jobs: Arc::new(Mutex::new(sender)),
            place: place.into(),
        })
    }

    /// Runs `work` on a free connection and waits for its answer.
    pub(crate) fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (answer, answered) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |connection| {
            let _ = answer.send(work(connection));
        });
        let sent = self
            .jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(job);
        let stopped = || StoreError::Database {
            place: self.place.to_string(),
            detail: "the connection threads stopped".into(),
        };
        sent.map_err(|_| stopped())?;
        answered.recv().map_err(|_| stopped())?
    }

    /// Runs `work` on a free connection without waiting for it; a failure is logged.
    pub(crate) fn spawn(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<(), StoreError> + Send + 'static,
    ) {
        let job: Job = Box::new(move |connection| {
            if let Err(e) = work(connection) {
                tracing::warn!(error = %e, "database write in the background failed");
            }
        });
        let _ = self
            .jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(job);
    }

    pub(crate) fn place(&self) -> &str {
        &self.place
    }
}
