//! Prepared statements kept per connection. rust-postgres prepares a
//! statement given as text on every call: a round trip and a parse and
//! plan in the server before the query runs. The store's queries are a
//! fixed set, so each is prepared once per connection and reused (a
//! statement prepared on a connection outlives the transaction it was
//! prepared in, even one that rolled back).

use std::collections::HashMap;

use postgres::types::ToSql;
use postgres::{Error, Row, Statement, Transaction};

/// A connection's statements, by their SQL.
pub type Statements = HashMap<String, Statement>;

/// A transaction whose queries use its connection's prepared statements;
/// the store's modules work on it as on a `postgres::Transaction`.
pub struct Tx<'a> {
    tx: Transaction<'a>,
    statements: &'a mut Statements,
}

type Params<'p> = &'p [&'p (dyn ToSql + Sync)];

impl<'a> Tx<'a> {
    pub fn new(tx: Transaction<'a>, statements: &'a mut Statements) -> Tx<'a> {
        Tx { tx, statements }
    }

    pub fn commit(self) -> Result<(), Error> {
        self.tx.commit()
    }

    fn statement(&mut self, sql: &str) -> Result<Statement, Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.tx.prepare(sql)?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    pub fn query(&mut self, sql: &str, params: Params) -> Result<Vec<Row>, Error> {
        let statement = self.statement(sql)?;
        self.tx.query(&statement, params)
    }

    pub fn query_one(&mut self, sql: &str, params: Params) -> Result<Row, Error> {
        let statement = self.statement(sql)?;
        self.tx.query_one(&statement, params)
    }

    pub fn query_opt(&mut self, sql: &str, params: Params) -> Result<Option<Row>, Error> {
        let statement = self.statement(sql)?;
        self.tx.query_opt(&statement, params)
    }

    pub fn execute(&mut self, sql: &str, params: Params) -> Result<u64, Error> {
        let statement = self.statement(sql)?;
        self.tx.execute(&statement, params)
    }
}
