//! POP3's two status lines over the shared line connection.

pub use crate::line_conn::{Connection, End, Input};

pub trait Reply {
    fn ok(&mut self, text: &str);
    fn err(&mut self, text: &str);
}

impl Reply for Connection {
    fn ok(&mut self, text: &str) {
        self.line("+OK", text);
    }

    fn err(&mut self, text: &str) {
        self.line("-ERR", text);
    }
}
