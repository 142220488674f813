//! A fresh PostgreSQL database per test on the cluster that
//! `LETTERBOX_TEST_POSTGRES` names (`.ci/postgres.sh` starts one in CI),
//! dropped when the test ends.

/// One test's database.
pub struct TestDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

impl TestDatabase {
    /// A new empty database; `None` without `LETTERBOX_TEST_POSTGRES`
    /// (CI always sets it: there, its absence fails the test).
    pub fn create() -> Option<TestDatabase> {
        let Ok(admin_url) = std::env::var("LETTERBOX_TEST_POSTGRES") else {
            assert!(
                std::env::var("CI").is_err(),
                "CI must set LETTERBOX_TEST_POSTGRES"
            );
            return None;
        };
        let name = format!("lbtest_{}_{}", std::process::id(), rand::random::<u32>());
        super::blocking(|| {
            postgres::Client::connect(&admin_url, postgres::NoTls)
                .expect("the test cluster answers")
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .unwrap()
        });
        let (base, _) = admin_url.rsplit_once('/').expect("a URL with a database");
        Some(TestDatabase {
            url: format!("{base}/{name}"),
            admin_url,
            name,
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        super::blocking(|| {
            if let Ok(mut admin) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
                let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
                let _ = admin.batch_execute(&drop);
            }
        });
    }
}
